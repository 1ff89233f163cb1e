import re
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.urls import reverse

from initiatives import maps
from initiatives.models import Department

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
INSETS = {"75", "92", "93", "94"}
MAP_FILE = settings.BASE_DIR / "fixtures" / "geography" / "departments-map.json"


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    memory = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "department-map-tests",
    }
    settings.CACHES = {"default": memory, "pages": memory}
    maps.cache.clear()


@pytest.fixture
def names():
    return dict(Department.objects.values_list("code", "name"))


@pytest.fixture
def counts(names):
    """Most departments without initiatives; the maximum, 13, gives the classes
    1, 2 à 3, 4 à 6 and 7 et plus."""
    return dict.fromkeys(names, 0) | {"13": 6, "33": 1, "75": 13}


def links(markup):
    """Map each link of the drawing to its (title, path class) pairs."""
    found = {}
    for link in ET.fromstring(markup).iter(f"{SVG}a"):
        path = link.find(f"{SVG}path")
        found.setdefault(link.get("href"), []).append(
            (link.find(f"{SVG}title").text, path.get("class"), link.get("tabindex"))
        )
    return found


def test_outlines_cover_the_101_departments_and_paris_insets():
    data = maps.map_data()
    codes = set(Department.objects.values_list("code", flat=True))
    assert len(codes) == 101
    assert set(data["departments"]) == codes
    assert "975" not in data["departments"]
    assert set(data["insets"]) == INSETS
    left, top, width, height = (int(n) for n in data["viewBox"].split())
    for path in [*data["departments"].values(), *data["insets"].values()]:
        assert re.fullmatch(r"(M-?\d+ -?\d+L[-\d ]+Z)+", path)
        numbers = [int(n) for n in re.findall(r"-?\d+", path)]
        assert all(left <= x <= left + width for x in numbers[0::2])
        assert all(top <= y <= top + height for y in numbers[1::2])
    assert [frame["label"] for frame in data["frames"]][0] == "Paris et petite couronne"


def test_outlines_file_stays_light():
    assert MAP_FILE.stat().st_size < 100 * 1024


def test_map_links_each_department_with_its_count(counts, names):
    markup = maps.department_map(counts, names)
    found = links(markup)
    assert len(found) == 101
    for code, name in names.items():
        entries = found[reverse("initiatives:department_detail", args=[code])]
        assert len(entries) == (2 if code in INSETS else 1)
        for title, _, _ in entries:
            assert title.startswith(f"{name} ({code}) : ")
    department_page = reverse("initiatives:department_detail", args=["13"])
    assert found[department_page] == [
        ("Bouches-du-Rhône (13) : 6 initiatives", "c3", "-1")
    ]
    assert found["/departements/33/"][0][:2] == ("Gironde (33) : 1 initiative", "c1")
    assert found["/departements/2A/"][0][:2] == (
        "Corse-du-Sud (2A) : aucune initiative",
        "c0",
    )
    assert [entry[1] for entry in found["/departements/75/"]] == ["c4", "c4"]


def test_map_is_hidden_from_assistive_technologies(counts, names):
    markup = maps.department_map(counts, names)
    root = ET.fromstring(markup)
    assert root.get("aria-hidden") == "true"
    assert root.get("focusable") == "false"
    assert root.get("class") == "map"
    assert root.get("viewBox") == maps.map_data()["viewBox"]
    tabindexes = {link.get("tabindex") for link in root.iter(f"{SVG}a")}
    assert tabindexes == {"-1"}
    assert "style=" not in markup and "\n" not in markup
    labels = ["".join(text.itertext()) for text in root.iter(f"{SVG}text")]
    assert labels[0] == "Paris et petite couronne"
    assert len(list(root.iter(f"{SVG}rect"))) == len(labels)


def test_map_escapes_names(counts, names):
    names["13"] = '<script>alert("x")</script>'
    markup = maps.department_map(counts, names)
    assert "<script>" not in markup
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; (13)" in markup


def test_map_caption_id_is_escaped(counts, names):
    markup = maps.department_map(counts, names, caption_id='t"x')
    assert ET.fromstring(markup).get("aria-describedby") == 't"x'


@pytest.mark.parametrize(
    "values",
    [
        [0, 1, 2, 3, 4, 5, 6],
        [0, 1, 2, 7, 19, 20, 250, 3999, 4000, 12_345, 60_000],
    ],
)
def test_buckets_adapt_to_the_maximum(values):
    counts = {str(i): value for i, value in enumerate(values)}
    classes = maps.buckets(counts)
    assert len(classes) == 5
    assert classes[0] == (0, 0, "aucune")
    for (_, high, _), (low, _, _) in zip(classes, classes[1:], strict=False):
        assert low == high + 1
    assert classes[-1][1] is None
    for value in values:
        matching = [
            (low, high)
            for low, high, _ in classes
            if low <= value and (high is None or value <= high)
        ]
        assert len(matching) == 1


def test_legend_labels_are_french():
    small = [label for _, _, label in maps.buckets({"13": 6, "33": 0})]
    assert small == ["aucune", "1", "2", "3", "4 et plus"]
    large = [label for _, _, label in maps.buckets({"13": 60_000})]
    assert large == [
        "aucune",
        "1 à 19",
        "20 à 199",
        "200 à 3\xa0999",
        "4\xa0000 et plus",
    ]
    legend = maps.legend({"13": 60_000})
    assert legend.startswith('<ul class="map-legend">')
    assert legend.count('aria-hidden="true"') == 5
    assert (
        '<span class="swatch c4" aria-hidden="true"></span> 4\xa0000 et plus' in legend
    )


def test_map_is_cached(monkeypatch, counts, names):
    calls = []

    def counting_draw(*args):
        calls.append(args)
        return draw(*args)

    draw = maps.draw_map
    monkeypatch.setattr(maps, "draw_map", counting_draw)
    first = maps.department_map(counts, names)
    assert maps.department_map(dict(reversed(counts.items())), names) == first
    assert len(calls) == 1
    maps.department_map(counts | {"13": 7}, names)
    assert len(calls) == 2


class BrokenCache:
    def get(self, *args, **kwargs):
        raise ConnectionError("cache down")

    def set(self, *args, **kwargs):
        raise ConnectionError("cache down")


def test_map_renders_when_the_cache_fails(monkeypatch, counts, names):
    monkeypatch.setattr(maps, "cache", BrokenCache())
    markup = maps.department_map(counts, names)
    assert "Bouches-du-Rhône (13) : 6 initiatives" in markup
