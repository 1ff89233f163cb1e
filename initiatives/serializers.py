"""JSON shapes of the catalogue, for the API.

Every serializer lists its fields explicitly: a rename is an API change, and a new
column must not leak. Nothing here reaches a submitter's contact data.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Category, Collectivity, Department, Initiative, Region, Theme


class CalledField(serializers.CharField):
    """A read-only string that a method of the object gives (`source`), called
    directly: DRF would inspect the method's signature for every object, which
    costs more than the call."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return getattr(instance, self.source)()


class PageUrlField(CalledField):
    """The absolute URL of the object's HTML page."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "get_absolute_url")
        kwargs.setdefault("help_text", "Adresse de la page HTML correspondante.")
        super().__init__(**kwargs)

    def to_representation(self, value):
        request = self.context.get("request")
        return request.build_absolute_uri(value) if request else value


class RegionSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:region-detail", lookup_field="code"
    )

    class Meta:
        model = Region
        fields = ["url", "code", "name"]


class RegionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name"]


class DepartmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["code", "name"]


class DepartmentSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:department-detail", lookup_field="code"
    )
    page_url = PageUrlField()
    region = RegionRefSerializer(read_only=True)

    class Meta:
        model = Department
        fields = ["url", "page_url", "code", "name", "region"]


class CollectivityRefSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:collectivity-detail", lookup_field="code"
    )
    page_url = PageUrlField()

    class Meta:
        model = Collectivity
        fields = ["url", "page_url", "code", "siren", "name", "kind"]


class CollectivitySerializer(CollectivityRefSerializer):
    kind_label = CalledField(source="get_kind_display", help_text="Nature, en clair.")
    department = DepartmentRefSerializer(read_only=True)
    region = RegionRefSerializer(source="department.region", read_only=True)

    class Meta:
        model = Collectivity
        fields = [
            "url",
            "page_url",
            "code",
            "siren",
            "name",
            "slug",
            "kind",
            "kind_label",
            "department",
            "region",
            "population",
            "label_level",
            "label_year",
            "website",
        ]


class CategorySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:category-detail", lookup_field="slug"
    )

    class Meta:
        model = Category
        fields = ["url", "slug", "name", "description"]


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name"]


class ThemeSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:theme-detail", lookup_field="slug"
    )
    page_url = PageUrlField()

    class Meta:
        model = Theme
        fields = ["url", "page_url", "slug", "name", "summary"]


class ThemeRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Theme
        fields = ["slug", "name"]


class VigilancePointRefSerializer(serializers.Serializer):
    slug = serializers.SlugField(read_only=True)
    title = serializers.CharField(read_only=True, help_text="Intitulé du point.")


class ImageSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Adresse de l'image.")
    alt = serializers.CharField(help_text="Texte alternatif.")
    width = serializers.IntegerField(help_text="Largeur en pixels.", allow_null=True)
    height = serializers.IntegerField(help_text="Hauteur en pixels.", allow_null=True)


class InitiativeSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:initiative-detail", lookup_field="slug"
    )
    page_url = PageUrlField()
    collectivity = CollectivityRefSerializer(read_only=True)
    department = DepartmentRefSerializer(
        source="collectivity.department", read_only=True
    )
    region = RegionRefSerializer(
        source="collectivity.department.region", read_only=True
    )
    category = CategoryRefSerializer(read_only=True)
    themes = ThemeRefSerializer(many=True, read_only=True)
    vigilance_points = VigilancePointRefSerializer(many=True, read_only=True)
    period_label = CalledField(
        source="get_period_display", help_text="Période, en clair."
    )
    outcome_label = CalledField(
        source="get_outcome_display",
        help_text="Ce qu'il est advenu de l'initiative, en clair.",
    )
    image = serializers.SerializerMethodField(
        help_text="L'image et son texte alternatif, ou null."
    )

    class Meta:
        model = Initiative
        fields = [
            "url",
            "page_url",
            "slug",
            "title",
            "summary",
            "description",
            "results",
            "website",
            "collectivity",
            "department",
            "region",
            "category",
            "themes",
            "vigilance_points",
            "period",
            "period_label",
            "started_on",
            "ended_on",
            "outcome",
            "outcome_label",
            "is_featured",
            "image",
            "source_note",
            "published_at",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(ImageSerializer(allow_null=True))
    def get_image(self, initiative):
        if not initiative.image:
            return None
        request = self.context.get("request")
        url = initiative.image.url
        return {
            "url": request.build_absolute_uri(url) if request else url,
            "alt": initiative.image_alt,
            "width": initiative.image_width,
            "height": initiative.image_height,
        }
