from rest_framework import serializers

from initiatives.serializers import CategoryRefSerializer

from .models import KeyFigure, Survey


class SurveySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:survey-detail", lookup_field="slug"
    )
    categories = CategoryRefSerializer(many=True, read_only=True)

    class Meta:
        model = Survey
        fields = [
            "url",
            "slug",
            "title",
            "organisers",
            "description",
            "opened_on",
            "closed_on",
            "declared_initiatives",
            "declared_towns",
            "declared_intercommunalities",
            "categories",
            "is_accepting_submissions",
            "source",
        ]


class KeyFigureSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:keyfigure-detail", lookup_field="slug"
    )

    class Meta:
        model = KeyFigure
        fields = [
            "url",
            "slug",
            "display_value",
            "value",
            "unit",
            "label",
            "explanation",
            "source",
            "publication",
            "period",
            "order",
        ]
