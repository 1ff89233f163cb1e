"""The fixed lists the catalogue's code branches on."""

from django.db import models

LABEL_MAX = 5


class CollectivityKind(models.TextChoices):
    COMMUNE = "commune", "commune"
    CC = "cc", "communauté de communes"
    CA = "ca", "communauté d'agglomération"
    CU = "cu", "communauté urbaine"
    METROPOLE = "metropole", "métropole"


class PopulationBand(models.TextChoices):
    UNDER_2K = "moins-de-2000", "moins de 2 000 habitants"
    UNDER_10K = "2000-10000", "2 000 à 10 000 habitants"
    UNDER_50K = "10000-50000", "10 000 à 50 000 habitants"
    UNDER_100K = "50000-100000", "50 000 à 100 000 habitants"
    OVER_100K = "plus-de-100000", "plus de 100 000 habitants"


# The lower bound of each band, in PopulationBand's order.
BAND_FLOORS = [0, 2_000, 10_000, 50_000, 100_000]


class InitiativeStatus(models.TextChoices):
    SUBMITTED = "submitted", "soumise"
    PUBLISHED = "published", "publiée"
    REJECTED = "rejected", "refusée"
    ARCHIVED = "archived", "archivée"


class InitiativePeriod(models.TextChoices):
    FIRST_LOCKDOWN = "lockdown1", "premier confinement (mars – mai 2020)"
    SECOND_LOCKDOWN = "lockdown2", "deuxième confinement (oct. – déc. 2020)"
    THIRD_LOCKDOWN = "lockdown3", "troisième confinement (avril – mai 2021)"
    SEVERAL_LOCKDOWNS = "lockdowns", "plusieurs confinements"
    WHOLE_CRISIS = "crisis", "toute la crise sanitaire (2020 – 2021)"
    UNKNOWN = "unknown", "période non précisée"


class InitiativeOutcome(models.TextChoices):
    CONTINUED = "continued", "poursuivie"
    PERMANENT = "permanent", "pérennisée"
    STOPPED = "stopped", "arrêtée"
    UNKNOWN = "unknown", "non connu"
