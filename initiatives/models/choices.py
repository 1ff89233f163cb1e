"""The fixed lists the catalogue's code branches on."""

from django.db import models

LABEL_MAX = 5


class CollectivityKind(models.TextChoices):
    COMMUNE = "commune", "commune"
    CC = "cc", "communauté de communes"
    CA = "ca", "communauté d'agglomération"
    CU = "cu", "communauté urbaine"
    METROPOLE = "metropole", "métropole"


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
