"""The book checker (book/check_book.py) on small hand-made builds: each check finds what it is
for and passes a page without it. The rendered checks drive headless Chromium."""
from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("check_book", REPO / "book" / "check_book.py")
assert _spec is not None and _spec.loader is not None
check_book = importlib.util.module_from_spec(_spec)
sys.modules["check_book"] = check_book
_spec.loader.exec_module(check_book)

needs_chromium = pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("chromium-browser")),
    reason="headless Chromium is not installed (make test installs Debian's chromium)")


def page(body: str, head: str = "") -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8">{head}</head>'
            f"<body><main>{body}</main></body></html>")


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def findings(found: list[object]) -> set[tuple[str, str]]:
    return {(f.page, f.check) for f in found}  # type: ignore[attr-defined]


def test_files_check_finds_external_resources_broken_links_and_orphans(tmp_path: Path) -> None:
    build = write(tmp_path, {
        "index.html": '<meta http-equiv="Refresh" content="0; url=book/a.html" />',
        "book/a.html": page('<a href="b.html#part">b</a> <a href="../notes/c.html">c</a>'
                            '<a href="https://example.org/x.html">elsewhere</a>'),
        "book/b.html": page('<a href="missing.html">gone</a>',
                            head='<link rel="index" href="../genindex.html">'),
        "notes/c.html": page("", head='<script src="https://cdn.example/m.js"></script>'
                                      '<link rel="stylesheet" href="//cdn.example/s.css">'
                                      '<link rel="stylesheet" href="../_static/local.css">'),
        "genindex.html": page(""),
        "orphan.html": page(""),
        "_static/local.css": "",
        "_static/skipped.html": page(""),
    })
    found = check_book.check_files(build)
    assert findings(found) == {
        ("book/b.html", "broken link"),
        ("notes/c.html", "external resource"),
        ("orphan.html", "unreachable"),
    }
    assert sum(f.check == "external resource" for f in found) == 2  # the script and the CSS


def test_files_check_refuses_a_folder_without_a_book(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="index.html"):
        check_book.check_files(tmp_path)


def mathjax_static() -> Path:
    """The offline MathJax the book ships (from the sphinx-mathjax-offline package)."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / "static" / "mathjax"


MATHS = '<p>Forget <span class="math notranslate nohighlight">\\(D_f\\)</span> only.</p>'


@needs_chromium
@pytest.mark.parametrize("mathjax", [True, False], ids=["mathjax-on", "mathjax-off"])
def test_raw_tex_is_found_only_when_mathjax_does_not_run(tmp_path: Path, mathjax: bool) -> None:
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "mathjax").symlink_to(mathjax_static())
    script = '<script defer src="_static/mathjax/tex-chtml.js"></script>' if mathjax else ""
    write(tmp_path, {"p.html": page(MATHS, head=script)})
    out = check_book.render_probe(tmp_path / "p.html", 1400, tmp_path / "profile")
    assert out["raw_tex"] == ([] if mathjax else ["\\(D_f\\)"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_static", "p.html", "profile"]


@needs_chromium
def test_long_visible_code_lines_are_found_hidden_ones_and_outputs_are_not(tmp_path: Path) -> None:
    ok, long = "x" * 88, "y" * 89
    body = (f'<div class="highlight"><pre>{ok}\n{long}</pre></div>'
            f'<details><summary>set-up</summary><pre>{"z" * 120}</pre></details>'
            f'<div class="cell_output"><pre>{"o" * 120}</pre></div>')
    write(tmp_path, {"p.html": page(body)})
    out = check_book.render_probe(tmp_path / "p.html", 1400, tmp_path / "profile")
    assert out["long_code"] == [f"89: {long}"]


@needs_chromium
def test_wide_tables_and_page_overflow(tmp_path: Path) -> None:
    wide = '<table style="width:1000px"><thead><tr><th>wide</th></tr></thead></table>'
    narrow = '<table style="width:300px"><tr><td>narrow</td></tr></table>'
    write(tmp_path, {
        "boxed.html": page(f'<div style="overflow-x:auto">{wide}</div>{narrow}'),
        "loose.html": page(wide),
        "fits.html": page(narrow),
    })
    profile = tmp_path / "profile"
    desktop = check_book.render_probe(tmp_path / "boxed.html", 1400, profile)
    assert desktop["window_px"] == 1400 and desktop["page_overflow_px"] <= 0
    assert len(desktop["wide_tables"]) == 0  # the body is wider than 1,000 px at 1,400
    phone = check_book.render_probe(tmp_path / "boxed.html", 390, profile)
    assert phone["window_px"] == 390
    assert phone["page_overflow_px"] <= 0  # scrolls in its own box: allowed on a phone
    assert phone["wide_tables"] == ["1000 px > 374 px: wide"]  # the body's 8 px margins
    loose = check_book.render_probe(tmp_path / "loose.html", 390, profile)
    assert loose["page_overflow_px"] > 0
    assert check_book.render_probe(tmp_path / "fits.html", 390, profile)["page_overflow_px"] <= 0


@needs_chromium
def test_check_rendered_reports_wide_tables_at_desktop_width_and_saves_screenshots(
        tmp_path: Path) -> None:
    build = tmp_path / "html"
    write(build, {"book/method.html": page(
        '<div class="bd-article" style="width:800px"><table style="width:900px">'
        "<caption>Table 4</caption></table></div>")})
    shots = tmp_path / "shots"
    found = check_book.check_rendered(build, ["book/method.html"], shots, log=lambda _: None)
    assert [str(f) for f in found] == [
        "book/method.html: table wider than the text at 1400 px: 900 px > 800 px: Table 4",
        "book/method.html: page overflows at 390 px: 518 px wider than the window "
        "(from: <caption class=''>Table 4)"]
    assert sorted(p.name for p in shots.iterdir()) == ["book_method-desktop.png",
                                                       "book_method-phone.png"]
