"""The open-data datasets, one entry each: what it holds, how its rows are
selected, its columns and its files. The routes, the views, the schemas, the
README, the DCAT catalogue and the /donnees/ page all read this table."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import reverse

from ..filters import InitiativeFilter
from ..models import Collectivity, Initiative
from .columns import COLLECTIVITY_COLUMNS, INITIATIVE_COLUMNS, Column


class InvalidQuery(ValueError):
    """The query's filters select nothing: the message names the invalid ones."""


@dataclass(frozen=True)
class Dataset:
    key: str  # in the schema's and the DCAT catalogue's identifiers
    route: str  # in the route names, "initiatives:data_<route>_<format>"
    label: str
    title: str
    description: str
    keywords: list[str]
    columns: list[Column]
    # The name of each file: the rows in "csv" and "json", their "schema".
    files: dict[str, str]
    # The rows a download's query selects; raises InvalidQuery.
    select: Callable[[QueryDict], QuerySet]

    def route_name(self, format: str) -> str:
        return f"data_{self.route}_{format}"

    def path(self, format: str) -> str:
        return reverse(f"initiatives:{self.route_name(format)}")


def filtered_initiatives(query: QueryDict) -> QuerySet:
    """Select the published initiatives with the catalogue's FilterSet, as the
    list page does; raise InvalidQuery naming the invalid parameters."""
    filterset = InitiativeFilter(query, queryset=Initiative.objects.published())
    if not filterset.is_valid():
        errors = "\n".join(
            f"- {label} : {error}" for label, error in filterset.error_list()
        )
        raise InvalidQuery(f"Paramètres invalides, aucun fichier produit :\n{errors}\n")
    return filterset.qs


DATASETS = {
    dataset.key: dataset
    for dataset in [
        Dataset(
            key="initiatives",
            route="initiatives",
            label="Initiatives",
            title="Initiatives numériques des collectivités pendant la crise sanitaire",
            description=(
                "Les initiatives numériques publiées sur le portail : collectivité "
                "(code INSEE ou SIREN), département, région, thèmes, catégorie de "
                "l'appel à idées, points de vigilance, période et devenir."
            ),
            keywords=["covid-19", "collectivités", "numérique", "initiatives"],
            columns=INITIATIVE_COLUMNS,
            files={
                "csv": "initiatives.csv",
                "json": "initiatives.json",
                "schema": "schema.json",
            },
            select=filtered_initiatives,
        ),
        Dataset(
            key="collectivites",
            route="collectivities",
            label="Collectivités",
            title="Collectivités ayant des initiatives numériques publiées",
            description=(
                "Les communes et intercommunalités dont le portail publie au moins "
                "une initiative, avec leur code officiel, leur département, leur "
                "label Villes Internet et leur nombre d'initiatives."
            ),
            keywords=["collectivités", "label Villes Internet", "numérique"],
            columns=COLLECTIVITY_COLUMNS,
            files={
                "csv": "collectivites.csv",
                "json": "collectivites.json",
                "schema": "schema-collectivites.json",
            },
            select=lambda query: Collectivity.objects.with_initiative_counts(),
        ),
    ]
}
