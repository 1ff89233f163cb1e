from rest_framework import serializers

from initiatives.serializers import PageUrlField

from .models import VigilancePoint


class VigilancePointSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:vigilancepoint-detail", lookup_field="slug"
    )
    page_url = PageUrlField()

    class Meta:
        model = VigilancePoint
        fields = ["url", "page_url", "slug", "title", "summary", "body", "cnfpt_echoes"]
