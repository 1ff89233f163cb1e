"""What the open-data files are: their Table Schema, their README and the DCAT
catalogue that lets a national portal harvest them."""

import datetime
from typing import Any

from django.urls import reverse

from .columns import Column
from .datasets import DATASETS, Dataset

LICENCE = {
    "title": "Licence Ouverte / Open Licence version 2.0",
    "name": "etalab-2.0",
    "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
}
ATTRIBUTION = (
    "Villes Internet, portail des initiatives numériques des collectivités "
    "(d'après Villes Internet et Villes de France, 2021 ; géographie INSEE et DGCL)"
)
PUBLISHER = "Villes Internet"
FORMULA_NOTE = (
    "Protection des tableurs : dans les CSV, un texte qui commence par « = », "
    "« + », « - », « @ », une tabulation ou un retour chariot est précédé d'une "
    "apostrophe (« '=1+1 »), pour qu'aucun tableur ne l'exécute comme une "
    "formule ; le JSON et l'API donnent le texte tel quel."
)


def table_schema(dataset: Dataset, base: str) -> dict[str, Any]:
    """Describe a dataset's CSV file as a Table Schema, as schema.data.gouv.fr
    does."""
    return {
        "$schema": "https://frictionlessdata.io/schemas/table-schema.json",
        "name": f"portail-initiatives-{dataset.key}",
        "title": dataset.title,
        "description": f"{dataset.description} {FORMULA_NOTE}",
        "countryCode": "FR",
        "homepage": base + reverse("initiatives:data"),
        "path": base + dataset.path("schema"),
        "licenses": [LICENCE],
        "resources": [{"title": "Fichier complet", "path": base + dataset.path("csv")}],
        "sources": [
            {
                "title": "Villes Internet et Villes de France, « Numérique et gestion "
                "de crise locale » (2021)"
            },
            {
                "title": "INSEE, Code officiel géographique 2026 ; DGCL, liste des "
                "EPCI à fiscalité propre 2026"
            },
        ],
        "contributors": [{"title": PUBLISHER, "role": "author"}],
        "version": "1.0.0",
        "created": "2026-11-22",
        "fields": [column.schema() for column in dataset.columns],
        "primaryKey": dataset.columns[0].name,
        "missingValues": [""],
    }


def readme(base: str) -> str:
    """Document every column of every file, in Markdown."""
    lines = [
        "# Données ouvertes du portail des initiatives numériques des collectivités",
        "",
        f"Licence : {LICENCE['title']} ({LICENCE['path']}).",
        f"Attribution demandée : « {ATTRIBUTION} ».",
        "",
        "Fichiers CSV en UTF-8, séparateur virgule, ligne d'en-tête, dates ISO 8601, "
        "codes INSEE et SIREN en texte ; listes séparées par « | ».",
        "",
        FORMULA_NOTE,
    ]
    for dataset in DATASETS.values():
        lines += [
            "",
            f"## {dataset.title}",
            "",
            dataset.description,
            "",
            f"- CSV : {base}{dataset.path('csv')}",
            f"- JSON : {base}{dataset.path('json')}",
            f"- Schéma (Table Schema) : {base}{dataset.path('schema')}",
            "",
            "| colonne | type | description | exemple |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| `{f['name']}` | {f['type']} | {f['description']} | {f['example']} |"
            for f in map(Column.schema, dataset.columns)
        ]
    return "\n".join(lines) + "\n"


def dcat_catalogue(base: str, modified: datetime.datetime | None) -> dict[str, Any]:
    """Describe the datasets and their distributions in DCAT (JSON-LD)."""
    modified_at = modified.isoformat() if modified else None
    datasets = []
    for dataset in DATASETS.values():
        distributions = [
            {
                "@type": "dcat:Distribution",
                "dct:title": f"{dataset.title} ({kind.upper()})",
                "dcat:downloadURL": {"@id": base + dataset.path(kind)},
                "dcat:accessURL": {"@id": base + dataset.path(kind)},
                "dcat:mediaType": media,
                "dct:format": kind.upper(),
                "dct:license": {"@id": LICENCE["path"]},
                "dct:conformsTo": {"@id": base + dataset.path("schema")},
            }
            for kind, media in (("csv", "text/csv"), ("json", "application/json"))
        ]
        datasets.append(
            {
                "@id": base + reverse("initiatives:data") + f"#{dataset.key}",
                "@type": "dcat:Dataset",
                "dct:identifier": f"portail-initiatives-{dataset.key}",
                "dct:title": dataset.title,
                "dct:description": dataset.description,
                "dcat:keyword": dataset.keywords,
                "dct:language": {
                    "@id": "http://publications.europa.eu/resource/authority/language/FRA"
                },
                "dct:license": {"@id": LICENCE["path"]},
                "dct:publisher": {"@type": "foaf:Organization", "foaf:name": PUBLISHER},
                "dct:spatial": {
                    "@id": "http://publications.europa.eu/resource/authority/country/FRA"
                },
                "dct:temporal": {
                    "@type": "dct:PeriodOfTime",
                    "dcat:startDate": "2020-03-01",
                    "dcat:endDate": "2021-12-31",
                },
                "dct:modified": modified_at,
                "dcat:landingPage": {"@id": base + reverse("initiatives:data")},
                "dcat:distribution": distributions,
            }
        )
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
        },
        "@id": base + reverse("initiatives:data_catalogue"),
        "@type": "dcat:Catalog",
        "dct:title": "Portail des initiatives numériques des collectivités",
        "dct:description": (
            "Données ouvertes du catalogue des initiatives numériques prises par "
            "les collectivités françaises pendant la crise de la Covid-19."
        ),
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": PUBLISHER},
        "dct:license": {"@id": LICENCE["path"]},
        "dct:modified": modified_at,
        "foaf:homepage": {"@id": base + "/"},
        "dcat:dataset": datasets,
        "dcat:service": {
            "@type": "dcat:DataService",
            "dct:title": "API REST du portail (lecture seule)",
            "dcat:endpointURL": {"@id": base + "/api/v1/"},
            "dcat:endpointDescription": {"@id": base + "/api/v1/schema/"},
            "dct:license": {"@id": LICENCE["path"]},
        },
    }
