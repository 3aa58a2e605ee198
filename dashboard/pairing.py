"""The pairing pages: the TV's (a code readable across the room; it polls until an admin
paired it, then opens its wallboard) and the admin's form on /sup/pair. Plain HTML and a few
lines of script: no data, no Dash."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.auth import pairing
from app.auth.transport import secure_scope
from app.i18n import t

_STYLE = (
    "body{background:#0b1220;color:#e5e7eb;font-family:system-ui,sans-serif;margin:0;"
    "display:flex;flex-direction:column;align-items:center;justify-content:center;"
    "min-height:100vh;text-align:center}"
    "h1{font-size:5vmin;font-weight:500;margin:0 0 4vmin}"
    ".code{font:700 18vmin/1 ui-monospace,monospace;letter-spacing:.08em;color:#fde68a}"
    "p{font-size:3vmin;max-width:70vw;color:#cbd5e1}"
)


def pair_page(app: Any, request: Request, board: str, lang: str) -> HTMLResponse:
    secret = request.cookies.get(pairing.COOKIE) or pairing.new_secret()
    try:
        code = pairing.start_on(app.state.engine, secret=secret, board=board)
    except pairing.TooMany:
        body = f"<p>{escape(t(lang, 'pair.busy'))}</p><meta http-equiv='refresh' content='60'>"
        return HTMLResponse(_html(lang, body), 503, headers={"Retry-After": "60"})
    script = (
        "setInterval(function(){fetch('/api/v1/wallboards/pairing',{method:'POST'})"
        ".then(function(r){return r.json()}).then(function(b){if(b.paired)"
        "location.replace('/wall/'+encodeURIComponent(b.wallboard))}).catch(function(){})},2000);"
        "setTimeout(function(){location.reload()},(10*60-30)*1000);"
    )
    body = (
        f"<h1>{escape(t(lang, 'pair.title'))}</h1>"
        f"<div class='code' id='pair-code'>{escape(code)}</div>"
        f"<p>{escape(t(lang, 'pair.hint', board=board))}</p><script>{script}</script>"
    )
    response = HTMLResponse(_html(lang, body), 401)
    response.set_cookie(
        pairing.COOKIE,
        secret,
        max_age=pairing.CODE_TTL_MIN * 60,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_scope(request.scope),
    )
    return response


def admin_pair_page(lang: str, boards: list[str]) -> HTMLResponse:
    options = "".join(f"<option>{escape(b)}</option>" for b in boards)
    script = (
        "function send(method,url,body){return fetch(url,{method:method,headers:"
        "{'Content-Type':'application/json','X-Callboard-Screen':'1'},body:body})}"
        "document.getElementById('pair').onsubmit=function(e){e.preventDefault();"
        "var b=document.getElementById('board').value,out=document.getElementById('out');"
        "send('POST','/api/v1/wallboards/pair',JSON.stringify({code:"
        "document.getElementById('code').value,wallboard:b})).then(function(r){"
        "return r.json().then(function(j){"
        "out.textContent=r.ok?out.dataset.done.replace('{board}',b):j.detail})})};"
        "document.getElementById('unpair').onclick=function(){"
        "var b=document.getElementById('board').value,out=document.getElementById('out');"
        "send('DELETE','/api/v1/wallboards/'+encodeURIComponent(b)+'/pairings').then("
        "function(r){return r.json()}).then(function(j){out.textContent=Array.isArray(j)?"
        "out.dataset.unpaired.replace('{board}',b).replace('{n}',j.length):j.detail})};"
    )
    body = (
        f"<h1>{escape(t(lang, 'pair.sup_title'))}</h1><form id='pair' style='font-size:3vmin'>"
        f"<label>{escape(t(lang, 'pair.code'))} <input id='code' autocomplete='off' "
        "style='font:inherit;width:8em;text-transform:uppercase'></label> "
        f"<label>{escape(t(lang, 'pair.board'))} <select id='board' style='font:inherit'>"
        f"{options}</select></label> <button style='font:inherit'>"
        f"{escape(t(lang, 'pair.submit'))}</button></form>"
        f"<p><button id='unpair' type='button'>{escape(t(lang, 'pair.unpair'))}</button></p>"
        f"<p id='out' data-done='{escape(t(lang, 'pair.done', board='{board}'))}' "
        f"data-unpaired='{escape(t(lang, 'pair.unpaired', board='{board}', n='{n}'))}'></p>"
        f"<script>{script}</script>"
    )
    return HTMLResponse(_html(lang, body))


def _html(lang: str, body: str) -> str:
    return (
        f"<!doctype html><html lang='{escape(lang)}'><meta charset='utf-8'>"
        f"<title>callboard</title><style>{_STYLE}</style><body>{body}</body></html>"
    )
