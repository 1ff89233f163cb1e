"""Finish the OpenAPI schema: French descriptions everywhere, and the error
responses every endpoint can give (400 invalid parameter, 404, 429)."""

DESCRIPTIONS = {
    "url": "Adresse de cet objet dans l'API.",
    "page_url": "Adresse de la page HTML correspondante.",
    "slug": "Identifiant stable, celui de l'adresse.",
    "code": "Code officiel (INSEE, ou SIREN pour une intercommunalité).",
    "siren": "Numéro SIREN.",
    "name": "Nom.",
    "title": "Titre.",
    "kind": "Nature de la collectivité : commune, cc, ca, cu ou metropole.",
    "collectivity": "La collectivité qui porte l'initiative.",
    "department": "Le département (code INSEE et nom).",
    "region": "La région (code INSEE et nom).",
    "category": "La catégorie de l'appel à idées.",
    "categories": "Les catégories proposées par l'enquête.",
    "themes": "Les thèmes de l'initiative.",
    "vigilance_points": "Les points de vigilance que l'initiative touche.",
    "description": "Description complète.",
    "summary": "Résumé.",
    "body": "Texte complet.",
    "website": "Site internet.",
    "started_on": "Date de début, si connue.",
    "ended_on": "Date de fin, si connue.",
    "published_at": "Date et heure de publication (ISO 8601).",
    "created_at": "Date et heure de création (ISO 8601).",
    "updated_at": "Date et heure de dernière modification (ISO 8601).",
    "count": "Nombre total de résultats.",
    "next": "Adresse de la page suivante, ou null.",
    "previous": "Adresse de la page précédente, ou null.",
    "results": "Les résultats de cette page.",
    "detail": "Message d'erreur lisible.",
    "errors": "Messages d'erreur par paramètre invalide.",
}
PATH_PARAMETERS = {
    "slug": "Identifiant de l'objet, tel qu'il figure dans son adresse.",
    "code": "Code officiel : INSEE (commune, département, région) ou SIREN "
    "(intercommunalité).",
}
ERRORS = {
    "400": "Paramètre invalide : `errors` nomme chaque paramètre en cause.",
    "404": "Objet ou page introuvable.",
    "429": "Trop de requêtes : réessayez après le délai indiqué par Retry-After.",
}


def describe(schema: dict) -> None:
    """Give every property of a schema a French description."""
    for name, prop in schema.get("properties", {}).items():
        if not prop.get("description"):
            prop["description"] = DESCRIPTIONS.get(name) or prop.get("title") or name
        describe(prop)
        if "items" in prop:
            describe(prop["items"])


def complete_schema(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "description": "Une erreur, toujours en JSON.",
        "properties": {
            "detail": {"type": "string"},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
        "required": ["detail"],
    }
    for schema in schemas.values():
        describe(schema)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    parameter["description"] = PATH_PARAMETERS.get(
                        parameter["name"], parameter.get("description", "")
                    )
            for status, text in ERRORS.items():
                operation["responses"].setdefault(
                    status, {"description": text, "content": error}
                )
    return result
