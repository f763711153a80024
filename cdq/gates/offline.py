"""Make Great Expectations' Data Docs work offline: nothing in them is fetched from another host.

GE's pages load Bootstrap, jQuery, Font Awesome and Vega from public CDNs and logos from a remote bucket,
so on a machine without internet they render unstyled, and every opening tells those hosts that a run
happened. :func:`make_offline` rewrites the written site in place: remote stylesheets and scripts are
dropped (a small inline stylesheet keeps the tables readable), remote images point at GE's own copies in
``static/images`` (or are dropped), links to remote pages keep their text without the link, and remote
``url(...)`` in CSS is removed.

Examples:
    >>> page = ('<html><head><script src="https://code.jquery.com/jquery.js"></script></head><body>'
    ...         '<a href="https://greatexpectations.io">GE</a><a href="index.html">home</a></body></html>')
    >>> out = offline_html(page, lambda name: None)
    >>> "http" in out, "GE" in out, 'href="index.html"' in out
    (False, True, True)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

logger = logging.getLogger(__name__)

#: A remote address: http(s) or protocol-relative, to any host but this machine.
_REMOTE = re.compile(r"^\s*(?:https?:)?//(?!localhost\b|127\.0\.0\.1\b)", re.I)
_CSS_URL = re.compile(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)", re.I)
_TEXT_URL = re.compile(r"(?:https?:)?//(?!localhost\b|127\.0\.0\.1\b)[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s\"'<>)]*")
_URL_ATTRS = ("src", "href", "srcset", "data-src", "xmlns", "xmlns:xlink", "xlink:href", "action", "poster")

#: Replaces Bootstrap's table and layout basics, so the pages stay readable without the CDN.
OFFLINE_CSS = """
body{font-family:system-ui,sans-serif;margin:16px;color:#222} .container,.container-fluid{max-width:1200px}
table{border-collapse:collapse;margin:8px 0;font-size:13px} td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}
.table-striped tbody tr:nth-of-type(odd){background:#f6f8fa} .text-danger{color:#b8443f} .text-success{color:#2d7a46}
.card{border:1px solid #ddd;border-radius:6px;padding:8px;margin:8px 0} .badge{padding:1px 6px;border-radius:4px;background:#eee}
.collapse:not(.show){display:block} nav,footer,.sticky,.fixed-top{position:static!important}
ol.breadcrumb{display:flex;gap:10px;list-style:none;padding:0;margin:8px 0}
"""


def _is_remote(value: object) -> bool:
    return isinstance(value, str) and bool(_REMOTE.match(value))


def offline_html(html: str, local_image: Callable[[str], str | None]) -> str:
    """One page without remote resources; ``local_image(file name)`` gives a local path for a remote image."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(["script", "link", "iframe", "embed", "object"]):
        remote = any(_is_remote(tag.get(a)) for a in ("src", "href", "data"))
        if remote or (tag.name == "script" and _TEXT_URL.search(tag.get_text() or "")):
            tag.decompose()
    for tag in soup.find_all("img"):
        if _is_remote(tag.get("src")):
            local = local_image(Path(urlparse(str(tag["src"]).strip()).path).name)
            if local is None:
                tag.decompose()
            else:
                tag["src"] = local
    for tag in soup.find_all(True):
        for attr in [a for a in _URL_ATTRS if _is_remote(tag.get(a))]:
            del tag[attr]
        if isinstance(inline := tag.get("style"), str):
            tag["style"] = _CSS_URL.sub("none", inline)
    for style in soup.find_all("style"):
        style.string = _CSS_URL.sub("none", style.get_text())
    for text in soup.find_all(string=_TEXT_URL):
        text.replace_with(_TEXT_URL.sub("", str(text)))
    head = soup.find("head")
    if head is not None:
        extra = soup.new_tag("style")
        extra.string = OFFLINE_CSS
        head.append(extra)
    return str(soup)


def make_offline(docs_dir: str | Path) -> int:
    """Rewrite every page and stylesheet of a Data Docs site in place; return the number of files changed."""
    root = Path(docs_dir)
    images = root / "static" / "images"
    changed = 0
    for css in root.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        fixed = _CSS_URL.sub("none", text)
        if fixed != text:
            css.write_text(fixed, encoding="utf-8")
            changed += 1
    for page in root.rglob("*.html"):

        def local(name: str, page: Path = page) -> str | None:
            found = images / name
            if not name or not found.is_file():
                return None
            return Path(*[".."] * (len(page.relative_to(root).parts) - 1), "static", "images", name).as_posix()

        text = page.read_text(encoding="utf-8", errors="replace")
        page.write_text(offline_html(text, local), encoding="utf-8")
        changed += 1
    logger.info("data docs: %d files made offline in %s", changed, root)
    return changed
