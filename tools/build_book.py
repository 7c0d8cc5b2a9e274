"""Builds the course website (Jupyter Book 1.x) into book/_build/html, and checks it.

    python tools/build_book.py                    # vendor scripts, build (-W), link check
    python tools/build_book.py --publish DIR      # the same, then a deployable copy in DIR
    python tools/build_book.py --allow-missing    # while lessons are being written: leave
                                                  # out toc entries whose file does not exist

Steps:

1. Vendor. The site serves every script it needs: require.js, the @jupyter-widgets
   html-manager (which renders saved widget state without a kernel), anywidget's front-end
   module and MathJax. They are fetched from the npm registry with ``npm pack`` at pinned
   versions, checked against their recorded sha512 integrity, and unpacked into
   ``book/_build/.vendor/static/vendor/`` (a cache: later builds reuse it, offline).
   _config.yml lists that folder in ``html_static_path``, so Sphinx copies it into the site.
2. Build. Jupyter Book with the repository root as source (so that the lessons keep their
   repository paths, which the launch buttons need), book/_config.yml, book/_toc.yml,
   execution off, warnings as errors.
3. Check. Every relative link, image and script in the built HTML resolves to a file of the
   site (and every ``#fragment`` to an id in it), and no page loads a script, a style sheet,
   a font or an image from another host.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html.parser
import json
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
BUILD = BOOK / "_build"
HTML = BUILD / "html"
VENDOR_CACHE = BUILD / ".vendor"
VENDOR_STATIC = VENDOR_CACHE / "static" / "vendor"  # served as _static/vendor/


@dataclass(frozen=True)
class NpmPackage:
    """One pinned npm package and the part of it that the site serves."""

    spec: str  # name@version
    integrity: str  # the registry's sha512 of the tarball
    folder: str  # destination under _static/vendor/
    keep: tuple[str, ...]  # paths inside the package (files or folders) to serve
    strip: str = ""  # leading folder removed from the served paths ("dist/" -> files at the top)
    drop: tuple[str, ...] = ()  # suffixes left out of the kept folders


# ipywidgets 8 renders saved state with html-manager 1.x; anywidget's front-end must match the
# Python package's version (its widgets ask for "anywidget" ~0.11.*).
PACKAGES = (
    NpmPackage(
        "requirejs@2.3.8",
        "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        "requirejs",
        ("require.js",),
    ),
    NpmPackage(
        "@jupyter-widgets/html-manager@1.0.15",
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        "html-manager",
        ("dist",),
        strip="dist/",
        # embed-amd.js is the self-contained bundle; the rest of dist/ is the fonts it uses.
        drop=(".map", "/embed.js", "/libembed-amd.js", ".LICENSE.txt"),
    ),
    NpmPackage(
        "anywidget@0.11.0",
        "sha512-LHZgW2j5UjyerZSZcO+BtZPXGMSORQV2bUT480hOR5x/BXS8sOradi/71amJfMueSEnKX0dqPwTfsOGHTsyZpQ==",
        "anywidget",
        ("dist/index.js",),
        strip="dist/",
    ),
    NpmPackage(
        "mathjax@3.2.2",
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        "mathjax",
        # the TeX+MathML→CHTML bundle and what it loads on demand (fonts, menu, a11y)
        ("es5/tex-mml-chtml.js", "es5/input", "es5/output/chtml", "es5/ui", "es5/a11y",
         "es5/adaptors", "es5/sre"),
        strip="es5/",
    ),
)


def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def _tarball(package: NpmPackage, tarballs: Path) -> Path:
    """The package's tarball in the cache, fetched with `npm pack` when missing."""
    for candidate in tarballs.glob("*.tgz"):
        if _integrity(candidate) == package.integrity:
            return candidate
    if shutil.which("npm") is None:
        raise SystemExit(f"npm is needed once to fetch {package.spec} (Debian: apt-get install npm)")
    out = subprocess.run(
        ["npm", "pack", package.spec, "--pack-destination", str(tarballs), "--json", "--silent"],
        check=True, capture_output=True, text=True,
    )
    path = tarballs / json.loads(out.stdout)[0]["filename"]
    if _integrity(path) != package.integrity:
        path.unlink()
        raise SystemExit(f"{package.spec}: the registry's tarball does not match the pinned integrity")
    return path


def _kept(name: str, package: NpmPackage) -> str | None:
    """The path under the package's vendor folder for a tar member, or None to skip it."""
    inner = name.removeprefix("package/")
    if name == inner or any(("/" + inner).endswith(suffix) for suffix in package.drop):
        return None
    if any(inner == keep or inner.startswith(keep + "/") for keep in package.keep):
        return inner.removeprefix(package.strip)
    return None


def vendor() -> Path:
    """Fetch (or reuse) the pinned npm packages and unpack what the site serves."""
    tarballs = VENDOR_CACHE / "tarballs"
    tarballs.mkdir(parents=True, exist_ok=True)
    stamp = VENDOR_CACHE / "stamp.json"
    wanted = [p.__dict__ for p in PACKAGES]
    if VENDOR_STATIC.is_dir() and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return VENDOR_STATIC
    shutil.rmtree(VENDOR_STATIC, ignore_errors=True)
    for package in PACKAGES:
        with tarfile.open(_tarball(package, tarballs)) as archive:
            for member in archive.getmembers():
                relative = _kept(member.name, package) if member.isfile() else None
                if relative is None:
                    continue
                target = VENDOR_STATIC / package.folder / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.extractfile(member).read())
    stamp.write_text(json.dumps(wanted))
    return VENDOR_STATIC


def _toc_files(toc: dict) -> list[str]:
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return files


def _source_exists(docname: str) -> bool:
    return any((ROOT / f"{docname}{suffix}").exists() for suffix in (".md", ".ipynb"))


def _dev_config(missing: list[str]) -> tuple[Path, Path]:
    """A toc without the missing files, and a config that tolerates links to them (development only)."""
    dev = BUILD / "dev"
    dev.mkdir(parents=True, exist_ok=True)
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    for part in toc["parts"]:
        part["chapters"] = [c for c in part["chapters"] if c["file"] not in missing]
    toc["parts"] = [part for part in toc["parts"] if part["chapters"]]
    config = yaml.safe_load((BOOK / "_config.yml").read_text())
    config["sphinx"]["local_extensions"] = {
        name: str((BOOK / path).resolve()) for name, path in config["sphinx"]["local_extensions"].items()
    }
    config["sphinx"]["config"]["suppress_warnings"] = ["myst.xref_missing"]
    (dev / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    (dev / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return dev / "_config.yml", dev / "_toc.yml"


def missing_sources() -> list[str]:
    """Toc entries whose file does not exist (yet)."""
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    return [name for name in _toc_files(toc) if not _source_exists(name)]


def build(allow_missing: bool = False) -> float:
    """Run Jupyter Book (warnings as errors); returns the seconds it took."""
    config, toc = BOOK / "_config.yml", BOOK / "_toc.yml"
    missing = missing_sources()
    if missing:
        if not allow_missing:
            raise SystemExit(f"the toc lists files that do not exist: {missing}")
        print(f"development build without: {', '.join(missing)}")
        config, toc = _dev_config(missing)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [
        str(jupyter_book), "build", str(ROOT), "--path-output", str(BOOK),
        "--config", str(config), "--toc", str(toc), "--builder", "html", "--all",
        "-W", "-n", "--keep-going", "--quiet",
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    # GitHub Pages ignores folders that start with "_" (such as _static) unless told not to.
    (HTML / ".nojekyll").touch()
    return elapsed


class _Refs(html.parser.HTMLParser):
    """Collects ids and the URLs a page links to or loads."""

    LOADS = {("script", "src"), ("img", "src"), ("source", "src"), ("iframe", "src"),
             ("link", "href")}

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []  # <a href>: navigation
        self.loads: list[str] = []  # fetched when the page opens

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name"):
            if values.get(key):
                self.ids.add(values[key])
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        for element, attribute in self.LOADS:
            if tag == element and values.get(attribute):
                rel = values.get("rel") or ""
                if tag == "link" and not any(r in rel for r in ("stylesheet", "icon", "preload")):
                    self.links.append(values[attribute])  # rel=next/prev/search/index
                else:
                    self.loads.append(values[attribute])


def check_site(html_dir: Path = HTML, missing: list[str] = ()) -> list[str]:
    """Problems found in the built site: broken internal links and anything loaded from another host.

    ``missing`` names documents left out of a development build: links to them are not problems.
    """
    # _static/ holds the theme's template fragments, not pages.
    pages = {p: _Refs() for p in html_dir.rglob("*.html") if "_static" not in p.relative_to(html_dir).parts}
    for path, refs in pages.items():
        refs.feed(path.read_text(encoding="utf-8"))
    problems = []
    for path, refs in pages.items():
        page = path.relative_to(html_dir)
        for url in refs.loads:
            if urlsplit(url).scheme in ("http", "https") or url.startswith("//"):
                problems.append(f"{page}: loads {url} from another host")
        for url in refs.links + refs.loads:
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//"):
                continue  # external links (repository, Binder, Colab) are navigation, not loads
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(html_dir.resolve()) or not target.exists():
                problems.append(f"{page}: broken link {url}")
            elif parts.fragment and target.suffix == ".html":
                fragment = unquote(parts.fragment)
                if any(Path(name).name in fragment for name in missing):
                    continue  # a development build's link to a lesson not written yet
                if fragment not in pages[target].ids:
                    problems.append(f"{page}: no anchor #{parts.fragment} in {target.relative_to(html_dir)}")
    return problems


def publish(destination: Path) -> None:
    """A deployable copy of the site: static files only, ready for any web server or GitHub Pages."""
    if destination.resolve() in (ROOT, BOOK, HTML.resolve()):
        raise SystemExit(f"refusing to publish into {destination}")
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(HTML, destination, ignore=shutil.ignore_patterns(".buildinfo", ".doctrees"))
    (destination / ".nojekyll").touch()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allow-missing", action="store_true",
                        help="leave out toc entries whose file does not exist yet (development only)")
    parser.add_argument("--publish", type=Path, metavar="DIR", help="write a deployable copy of the site to DIR")
    args = parser.parse_args()

    start = time.perf_counter()
    vendor()
    fetched = time.perf_counter() - start
    elapsed = build(allow_missing=args.allow_missing)
    problems = check_site(missing=missing_sources() if args.allow_missing else ())
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in the built site", file=sys.stderr)
        return 1
    print(f"built {HTML.relative_to(ROOT)} in {elapsed:.0f} s (scripts ready in {fetched:.0f} s); links checked")
    if args.publish:
        publish(args.publish)
        print(f"deployable site in {args.publish}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
