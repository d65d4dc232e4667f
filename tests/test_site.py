"""The demo's published site, checked as a person and a browser see it: valid HTML, links that resolve,
no e-mail address, header cells in every table, Arabic right to left; and, in a real headless
Chromium, screenshots and the computed direction and position of the main heading."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import html5lib
import pytest
from click.testing import CliRunner

from cli import cli

EMAIL = re.compile(rb"[\w.+-]+@[\w-]+\.[\w.-]+")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's site, built once for this module."""
    folder = tmp_path_factory.mktemp("demo") / "d"
    result = CliRunner().invoke(cli, ["--actor", "tester", "demo", "--dir", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"Site: {folder / 'site' / 'index.html'}" in result.stdout
    return folder / "site"


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


class Page(HTMLParser):
    """What the checks need of a page: its links, its ids, its tables and their header cells."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: list[str] = []
        self.tables = 0
        self.tables_with_th = 0
        self.scripts = 0
        self.html_attrs: dict[str, str | None] = {}
        self._stack: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.html_attrs = found
        if tag == "script":
            self.scripts += 1
        for name in ("href", "src"):
            if found.get(name):
                self.links.append(found[name] or "")
        if found.get("id"):
            self.ids.append(found["id"] or "")
        if tag == "table":
            self.tables += 1
            self._stack.append(False)
        if tag == "th" and self._stack:
            self._stack[-1] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._stack:
            self.tables_with_th += self._stack.pop()


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_the_site_has_every_section_in_both_languages(site: Path) -> None:
    for lang in ("ar", "en"):
        for name in ("index", "register", "register-state", "response", "working-group", "letters", "data", "verify"):
            assert (site / lang / f"{name}.html").is_file(), (lang, name)
        assert len(list((site / lang / "proposals").glob("*.html"))) == 10
    for name in ("index.html", "style.css", "manifest.sha256", "downloads/reasoned-response.ar.docx",
                 "downloads/minutes/meeting-2-2021-07-28.docx", "data/datapackage.json", "data/response.csv"):  # fmt: skip
        assert (site / name).is_file(), name


def test_every_page_is_valid_html_with_its_language_and_direction(site: Path) -> None:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    for path in pages(site):
        parser.parse(path.read_bytes())  # raises on the first parse error
        page = parse(path)
        relative = path.relative_to(site).as_posix()
        if relative.startswith("ar/"):
            assert page.html_attrs == {"lang": "ar", "dir": "rtl"}, relative
        elif relative.startswith("en/"):
            assert page.html_attrs == {"lang": "en", "dir": "ltr"}, relative
        assert page.scripts == 0, relative  # no JavaScript needed, none used
        assert len(page.ids) == len(set(page.ids)), f"{relative}: an id is used twice"
        assert page.tables == page.tables_with_th, f"{relative}: a table without header cells"


def test_every_link_resolves_to_a_file_of_the_site(site: Path) -> None:
    ids = {path: set(parse(path).ids) for path in pages(site)}
    checked = 0
    for path in pages(site):
        for link in parse(path).links:
            parts = urlsplit(link)
            assert not parts.scheme and not parts.netloc and not link.startswith("/"), f"{path}: {link} is not relative"
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_relative_to(site.resolve()) and target.is_file(), f"{path}: {link} leads nowhere"
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in ids[target], f"{path}: {link}: no such anchor"
            checked += 1
    assert checked > 1000


def test_no_file_of_the_site_holds_an_e_mail_address(site: Path) -> None:
    for path in site.rglob("*"):
        if path.suffix in {".html", ".csv", ".json", ".css", ".sha256"}:
            assert not EMAIL.search(path.read_bytes()), path
        elif path.suffix == ".docx":
            import zipfile

            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    assert not EMAIL.search(archive.read(name)), (path, name)


def test_the_open_data_is_described(site: Path) -> None:
    package = json.loads((site / "data" / "datapackage.json").read_text(encoding="utf-8"))
    names = [r["name"] for r in package["resources"]]
    assert names == ["proposals", "response", "letters", "meetings", "members", "publications"]
    for resource in package["resources"]:
        header = (site / "data" / resource["path"]).read_text(encoding="utf-8-sig").splitlines()[0]
        assert header.split(",") == [f["name"] for f in resource["schema"]["fields"]]


# --- in a real browser ----------------------------------------------------------------------------


def chromium() -> str:
    if CHROMIUM is None:
        reason = "Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("OGP_REQUIRE_CHROMIUM"):
            pytest.fail(f"OGP_REQUIRE_CHROMIUM is set, but {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
def browser_profile() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="ogp-chromium-") as folder:
        yield folder


def run_chromium(profile: str, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        f"--user-data-dir={profile}", "--window-size=1280,1400", *args, url,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


# Written into the page's DOM by a copy of it that carries this script: what Chromium computed.
PROBE = """<script>
(function () {
  var h1 = document.querySelector("h1"), range = document.createRange();
  range.selectNodeContents(h1);
  var text = range.getBoundingClientRect(), box = h1.getBoundingClientRect();
  document.body.setAttribute("data-probe", JSON.stringify({
    direction: getComputedStyle(document.documentElement).direction,
    h1Direction: getComputedStyle(h1).direction,
    width: document.documentElement.clientWidth,
    textLeft: text.left, textRight: text.right, boxLeft: box.left, boxRight: box.right,
    fontFamily: getComputedStyle(h1).fontFamily
  }));
})();
</script>"""


def probe(site: Path, page: str, profile: str) -> dict[str, object]:
    original = site / page
    copy = original.with_name(f"probe-{original.name}")
    copy.write_text(original.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    try:
        result = run_chromium(profile, copy.as_uri(), "--dump-dom")
    finally:
        copy.unlink()
    match = re.search(r'data-probe="([^"]*)"', result.stdout)
    assert match, f"no probe in Chromium's DOM: {result.stderr[-500:]}"
    found: dict[str, object] = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("page", ["ar/index.html", "ar/proposals/SAMPLE-06.html", "ar/response.html"])
def test_arabic_pages_are_right_to_left_with_the_heading_at_the_right(
    site: Path, page: str, browser_profile: str
) -> None:
    seen = probe(site, page, browser_profile)
    assert seen["direction"] == "rtl" and seen["h1Direction"] == "rtl"
    width = float(seen["width"])  # type: ignore[arg-type]
    assert float(seen["textRight"]) > width - 120  # type: ignore[arg-type]  # starts at the right margin
    assert float(seen["textLeft"]) > 40  # type: ignore[arg-type]  # and does not start at the left


@pytest.mark.slow
def test_english_pages_are_left_to_right_with_the_heading_at_the_left(site: Path, browser_profile: str) -> None:
    seen = probe(site, "en/index.html", browser_profile)
    assert seen["direction"] == "ltr" and seen["h1Direction"] == "ltr"
    assert float(seen["textLeft"]) < 120  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize(
    "page", ["ar/index.html", "en/index.html", "ar/proposals/SAMPLE-06.html", "en/proposals/SAMPLE-06.html"]
)
def test_screenshots_of_the_home_and_a_proposal_page(
    site: Path, page: str, browser_profile: str, tmp_path: Path
) -> None:
    """Screenshots to look at: under $OGP_SCREENSHOTS when it is set, else the test's own folder."""
    folder = Path(os.environ.get("OGP_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (page.replace("/", "-").removesuffix(".html") + ".png")
    result = run_chromium(browser_profile, (site / page).as_uri(), f"--screenshot={target}")
    assert target.is_file(), result.stderr[-500:]
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a page drawn, not a blank


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_site_has_words_for_every_state_step_and_letter_kind(language: str) -> None:
    """A state, a move or a kind of letter added to states/ must not break publishing."""
    from states import STEPS, DocumentKind, State

    words = (
        Path(__file__).resolve().parents[1] / "documents" / "site" / "templates" / f"words.{language}.j2"
    ).read_text(encoding="utf-8")

    def keys(name: str) -> set[str]:
        block = words.split(f"{{% set {name} = {{", 1)[1].split("} %}", 1)[0]
        return {line.split('"')[1] for line in block.splitlines() if line.strip().startswith('"')}

    assert {kind.value for kind in DocumentKind} <= keys("KIND")
    assert {state.value for state in State} <= keys("STATE")
    assert {step for step in STEPS if STEPS[step].move is not None} <= keys("STEP")
