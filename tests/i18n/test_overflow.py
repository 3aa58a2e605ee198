"""The overflow helper finds what a viewer would see cut, and only that (in real Chromium)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.i18n.overflow import assert_fits, overflows

PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body { margin: 0; font: 16px sans-serif; }
.tile { width: 120px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.loose { width: 120px; white-space: nowrap; }
.fits { width: 300px; white-space: nowrap; }
.tall { width: 120px; height: 20px; overflow: hidden; }
.far { position: absolute; left: 700px; top: 10px; white-space: nowrap; }
.low { position: absolute; left: 0; top: 1000px; }
.scroller { width: 120px; height: 40px; overflow: auto; white-space: nowrap; }
.box { width: 150px; height: 40px; overflow: hidden; }
.box p { margin: 0; }
.hidden { display: none; width: 10px; white-space: nowrap; }
</style></head><body>
<div class="tile" id="cut">Среднее время обработки вызова</div>
<div class="loose" id="spill">Средняя продолжительность разговора</div>
<div class="fits" id="ok">平均处理时长</div>
<div class="tall" id="clip">Соблюдение расписания операторов за смену сегодня</div>
<div class="far" id="right">Уровень обслуживания</div>
<div class="low" id="below">Потерянные вызовы</div>
<div class="scroller"><span>Table row that scrolls inside its own panel, on purpose</span></div>
<div class="box"><p id="wrapped">Сбалансированная система показателей оператора</p></div>
<div class="box"><p id="inside">服务水平</p></div>
<div class="hidden">Hidden text is not shown, so it cannot overflow</div>
<svg width="50" height="20"><text x="0" y="15">Chart text left to the chart library</text></svg>
</body></html>"""


@pytest.fixture
def page(browser: Any) -> Any:
    ctx = browser.new_context(viewport={"width": 800, "height": 600})
    p = ctx.new_page()
    p.set_content(PAGE)
    yield p
    ctx.close()


def test_each_kind_of_overflow_is_found_and_nothing_else(page: Any) -> None:
    found = {f.where: f.kinds for f in overflows(page)}
    assert found == {
        "div#cut": ("cut-x",),
        "div#spill": ("cut-x",),
        "div#clip": ("cut-y",),
        "div#right": ("beyond-viewport",),
        "div#below": ("beyond-viewport",),
        "p#wrapped": ("clipped",),
        "div.scroller": ("scrolls-x",),  # readable only by scrolling sideways
    }, found


def test_a_panel_meant_to_scroll_sideways_may(page: Any) -> None:
    assert "div.scroller" not in {f.where for f in overflows(page, scroll_x=True)}


def test_a_page_that_scrolls_down_may_reach_below_the_fold(page: Any) -> None:
    assert "div#below" not in {f.where for f in overflows(page, scroll_y=True)}


def test_fitting_text_passes_and_a_long_label_fails_with_its_words(browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 360, "height": 480})
    p = ctx.new_page()
    p.set_content('<div style="width:200px;overflow:hidden;white-space:nowrap">平均处理时长</div>')
    assert_fits(p, "short")
    p.set_content(
        '<div style="width:200px;overflow:hidden;white-space:nowrap">'
        "Среднее время обработки вызова, соблюдение расписания</div>"
    )
    with pytest.raises(AssertionError, match="Среднее время обработки"):
        assert_fits(p, "long")
    ctx.close()
