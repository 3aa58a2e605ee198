"""A real headless Chromium for the language tests (the same browser and flags as tests/e2e)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import launched, require_chinese_font


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched() as b:
        yield b


@pytest.fixture
def chinese_font() -> None:
    """The screens in zh-CN and zh-TW mean nothing without a Chinese font (empty boxes of the
    wrong width): such a test skips, saying how to get one."""
    require_chinese_font()
