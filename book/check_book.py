"""Check a built book as a reader would see it, offline, at desktop and phone width.

Usage (``make book-check`` builds the smoke book and runs this on it)::

    python book/check_book.py _build/smoke/_build/html [--screenshots DIR]

Checks of the HTML files:

- no ``<script src>`` or stylesheet ``<link href>`` that points outside the build (``http:``,
  ``https:``, ``//``): the book must read from ``file://`` without a network;
- every internal link points at a file of the build, and every page is reachable from
  ``index.html`` by following links.

Checks of the pages as headless Chromium renders them (after MathJax has run), at 1,400 px and
at 390 px (a phone):

- no raw TeX (``\\(``, ``\\[``, ``$$``) left in the visible text;
- no visible code line over 88 characters;
- no horizontal overflow of the page; at 1,400 px every table fits the text column (on the phone
  a wide table may scroll in its own box).

Exits 1 and lists every finding when a check fails. ``--screenshots DIR`` also saves PNGs of
three pages at both widths, for a person to look at.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

MAX_CODE_LINE = 88
WIDTHS = {"desktop": 1400, "phone": 390}
SCREENSHOT_PAGES = ("book/method.html", "notebooks/06_error_unlearning.html", "book/using_assd.html")
SKIPPED_FOLDERS = ("_static", "_sources", "_images", "_downloads", "jupyter_execute", "reports")
ATTRIBUTE = "data-book-check"
#: Browsers that run the rendered checks, in order of preference (Debian's, then Google's,
#: which GitHub's Ubuntu runners carry).
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Runs in the page after load and after MathJax has typeset; writes its findings as JSON into
# <body data-book-check="...">, which --dump-dom returns.
PROBE = """
<script>
(function () {
  function visible(el) {  // rendered, and not in a closed <details> or display:none box
    if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true})) return false;
    return el.getClientRects().length > 0;
  }
  function scrolls(el) {  // el or an ancestor scrolls or clips horizontally
    for (; el && el !== document.body; el = el.parentElement) {
      if (getComputedStyle(el).overflowX !== "visible") return true;
    }
    return false;
  }
  function probe() {
    var out = {raw_tex: [], long_code: [], wide_tables: []};
    var root = document.documentElement;
    out.page_overflow_px = root.scrollWidth - root.clientWidth;
    out.overflow_from = [];  // the innermost elements that reach past the window
    if (out.page_overflow_px > 0) {
      var all = document.body.querySelectorAll("*");
      for (var i = 0; i < all.length && out.overflow_from.length < 3; i++) {
        var el = all[i];
        if (!visible(el) || el.getBoundingClientRect().right <= root.clientWidth + 1) continue;
        if (scrolls(el.parentElement)) continue;  // clipped by a box that scrolls: allowed
        var inner = Array.prototype.some.call(el.children, function (c) {
          return visible(c) && c.getBoundingClientRect().right > root.clientWidth + 1; });
        if (!inner) {
          out.overflow_from.push("<" + el.tagName.toLowerCase() + " class='" + el.className +
                                 "'>" + el.textContent.replace(/\\s+/g, " ").trim().slice(0, 60));
        }
      }
    }
    out.height_px = root.scrollHeight;
    var skip = "script, style, pre, code, textarea, mjx-container, mjx-assistive-mml";
    var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      var node = walker.currentNode, parent = node.parentElement, text = node.nodeValue;
      if (!parent || parent.closest(skip) || !visible(parent)) continue;
      if (text.indexOf("\\\\(") >= 0 || text.indexOf("\\\\[") >= 0 || text.indexOf("$$") >= 0) {
        out.raw_tex.push(text.trim().slice(0, 100));
      }
    }
    document.querySelectorAll("pre").forEach(function (pre) {
      if (!visible(pre) || pre.closest(".cell_output, .output")) return;
      pre.textContent.split("\\n").forEach(function (line) {
        if (line.length > MAX_LINE) out.long_code.push(line.length + ": " + line.slice(0, 100));
      });
    });
    var column = document.querySelector(".bd-article") || document.querySelector("main") || document.body;
    var limit = column.getBoundingClientRect().width;
    document.querySelectorAll("table").forEach(function (table) {
      if (!visible(table)) return;
      var width = table.getBoundingClientRect().width;
      if (width > limit + 1) {
        var head = table.querySelector("caption") || table.querySelector("thead") || table;
        var caption = head.textContent.replace(/\\s+/g, " ").trim();
        out.wide_tables.push(Math.round(width) + " px > " + Math.round(limit) + " px: " + caption.slice(0, 60));
      }
    });
    out.window_px = window.innerWidth;
    document.body.setAttribute("ATTRIBUTE", JSON.stringify(out));
    if (window.parent !== window) window.parent.postMessage(JSON.stringify(out), "*");
  }
  window.addEventListener("load", function () {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise) { mj.startup.promise.then(probe, probe); }
    else { probe(); }
  });
})();
</script>
""".replace("MAX_LINE", str(MAX_CODE_LINE)).replace("ATTRIBUTE", ATTRIBUTE)


@dataclass
class Finding:
    page: str
    check: str
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: {self.check}: {self.detail}"


class _Links(HTMLParser):
    """Collects link targets, external scripts and stylesheets of one HTML file."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"])
        if tag == "link" and values.get("rel") in ("index", "search", "next", "prev"):
            self.hrefs.append(values.get("href", ""))  # the index and the search box's page
        if tag == "form" and values.get("action"):
            self.hrefs.append(values["action"])
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            match = re.search(r"url=(\S+)", values.get("content", ""), flags=re.I)
            if match:
                self.hrefs.append(match.group(1))
        if tag == "script" and _is_external(values.get("src", "")):
            self.external.append(f"<script src={values['src']}>")
        if tag == "link" and "stylesheet" in values.get("rel", "") and _is_external(values.get("href", "")):
            self.external.append(f"<link rel=stylesheet href={values['href']}>")


def _is_external(url: str) -> bool:
    return url.startswith(("http:", "https:", "//"))


def book_pages(html_dir: Path) -> list[str]:
    """The book's pages: every ``.html`` file outside Sphinx's asset folders, as POSIX paths
    relative to ``html_dir``, sorted."""
    return sorted(
        p.relative_to(html_dir).as_posix()
        for p in html_dir.rglob("*.html")
        if not p.relative_to(html_dir).parts[0] in SKIPPED_FOLDERS
    )


def is_redirect(page_file: Path) -> bool:
    """Whether the page only forwards the reader (``<meta http-equiv="Refresh">``, as the
    book's ``index.html``): it has nothing to render."""
    text = page_file.read_text(encoding="utf-8")
    return re.search(r'http-equiv="refresh"', text, flags=re.I) is not None and "<body" not in text


def check_files(html_dir: Path) -> list[Finding]:
    """External scripts/stylesheets, broken internal links, pages not reachable from the index."""
    if not (html_dir / "index.html").is_file():
        raise FileNotFoundError(f"{html_dir / 'index.html'} does not exist: build the book first "
                                "(make book-check builds the smoke book)")
    findings: list[Finding] = []
    links: dict[str, set[str]] = {}
    for page in book_pages(html_dir):
        parser = _Links()
        parser.feed((html_dir / page).read_text(encoding="utf-8"))
        findings += [Finding(page, "external resource", e) for e in parser.external]
        targets = set()
        for href in parser.hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path:
                continue  # another site, mailto:, or an anchor on the same page
            target = (html_dir / page).parent / unquote(parts.path)
            if not target.exists():
                findings.append(Finding(page, "broken link", href))
            elif target.suffix == ".html":
                targets.add(Path(os.path.relpath(target.resolve(), html_dir.resolve())).as_posix())
        links[page] = targets
    seen, todo = {"index.html"}, ["index.html"]
    while todo:
        for target in links.get(todo.pop(), set()) - seen:
            seen.add(target)
            todo.append(target)
    findings += [Finding(p, "unreachable", "no chain of links from index.html")
                 for p in links if p not in seen]
    return findings


def chromium() -> str:
    """Path of the headless browser: ``$CHROMIUM``, else the first of :data:`BROWSERS` on the
    PATH.

    Raises:
        FileNotFoundError: none is found (the message says how to install one).
    """
    found = os.environ.get("CHROMIUM") or next(
        (path for name in BROWSERS if (path := shutil.which(name))), None)
    if not found:
        raise FileNotFoundError("headless Chromium not found: install Debian's `chromium` "
                                "(make book-check does) or set CHROMIUM to its path")
    return found


def _browse(args: list[str], url: str, profile: Path) -> str:
    command = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--user-data-dir={profile}", *args, url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    return done.stdout


# Headless Chromium will not make a window narrower than 500 px, so every page is shown in an
# iframe of the width under test (media queries see the iframe's width, as on a phone).
HOST = """<!DOCTYPE html>
<html><body style="margin:0">
<iframe src="{src}" style="width:{width}px;height:{height}px;border:0;display:block"></iframe>
<script>window.addEventListener("message", function (e) {{
  document.body.setAttribute("{attribute}", e.data); }});</script>
</body></html>
"""


def _window(width: int, height: int) -> str:
    return f"--window-size={max(width, 500)},{height}"


def render_probe(page_file: Path, width: int, profile: Path,
                 screenshot: Path | None = None) -> dict[str, Any]:
    """Findings of :data:`PROBE` for one page shown ``width`` px wide (the page is copied to a
    sibling file with the probe appended and shown in an iframe of a host file beside it; both
    are removed afterwards, the original is not changed). With ``screenshot``, also saves a PNG
    of the whole page at that width."""
    probe_file = page_file.with_name(page_file.stem + ".book-check.html")
    host_file = page_file.with_name(page_file.stem + ".book-check-host.html")
    text = page_file.read_text(encoding="utf-8")
    probe_file.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    try:
        host_file.write_text(HOST.format(src=probe_file.name, width=width, height=900,
                                         attribute=ATTRIBUTE), encoding="utf-8")
        dom = _browse([_window(width, 900), "--virtual-time-budget=20000", "--dump-dom"],
                      host_file.as_uri(), profile)
        match = re.search(ATTRIBUTE + r'="([^"]*)"', dom)
        if not match:
            raise RuntimeError(f"{page_file}: the probe did not run in Chromium (no {ATTRIBUTE} in "
                               "the rendered page)")
        result: dict[str, Any] = json.loads(html.unescape(match.group(1)))
        if screenshot is not None:
            height = min(int(result["height_px"]), 16000)
            host_file.write_text(HOST.format(src=probe_file.name, width=width, height=height,
                                             attribute=ATTRIBUTE), encoding="utf-8")
            _browse([_window(width, height), "--virtual-time-budget=20000",
                     f"--screenshot={screenshot}"], host_file.as_uri(), profile)
            _crop_width(screenshot, width)
    finally:
        probe_file.unlink(missing_ok=True)
        host_file.unlink(missing_ok=True)
    return result


def _crop_width(png: Path, width: int) -> None:
    """Cut a screenshot of a narrow iframe down to the iframe (Pillow, if installed)."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return
    with Image.open(png) as image:
        if image.width > width:
            image.crop((0, 0, width, image.height)).save(png)


def check_rendered(html_dir: Path, pages: list[str], screenshots: Path | None = None,
                   log: Callable[[str], None] = print) -> list[Finding]:
    """Raw TeX, long visible code lines, overflow and wide tables, page by page, at both widths."""
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="book-check-") as tmp:
        profile = Path(tmp) / "profile"
        for i, page in enumerate(pages, 1):
            for name, width in WIDTHS.items():
                png = None
                if screenshots is not None and page in SCREENSHOT_PAGES:
                    screenshots.mkdir(parents=True, exist_ok=True)
                    png = screenshots / f"{page.replace('/', '_').removesuffix('.html')}-{name}.png"
                out = render_probe(html_dir / page, width, profile, png)
                log(f"book-check: [{i}/{len(pages)}] {page} at {width} px (window "
                    f"{out['window_px']} px): {len(out['raw_tex'])} raw TeX, "
                    f"{len(out['long_code'])} long code lines, overflow "
                    f"{out['page_overflow_px']} px, {len(out['wide_tables'])} wide tables")
                if int(out["page_overflow_px"]) > 0:
                    culprits = "; ".join(out["overflow_from"])
                    findings.append(Finding(page, f"page overflows at {width} px",
                                            f"{out['page_overflow_px']} px wider than the window"
                                            f" (from: {culprits})"))
                if name == "desktop":  # the text and code are the same at both widths
                    findings += [Finding(page, "raw TeX", str(t)) for t in out["raw_tex"]]
                    findings += [Finding(page, f"code line over {MAX_CODE_LINE}", str(t))
                                 for t in out["long_code"]]
                    findings += [Finding(page, f"table wider than the text at {width} px", str(t))
                                 for t in out["wide_tables"]]
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html_dir", type=Path, help="the built book, e.g. _build/smoke/_build/html")
    parser.add_argument("--screenshots", type=Path, help="save PNGs of three pages here")
    parser.add_argument("--pages", nargs="*", help="render only these pages (default: all)")
    args = parser.parse_args(argv)
    html_dir = args.html_dir.resolve()
    findings = check_files(html_dir)
    pages = args.pages or [p for p in book_pages(html_dir) if not is_redirect(html_dir / p)]
    findings += check_rendered(html_dir, pages, args.screenshots)
    for finding in findings:
        print(f"book-check: {finding}")
    print(f"book-check: {len(pages)} pages, {len(WIDTHS)} widths, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
