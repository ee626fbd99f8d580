from rest_framework import serializers

from tickets.api.fields import (
    StrictCharField,
    StrictSerializerMixin,
    StrictSlugField,
    StrictSlugRelatedField,
)

from ..models import Article, ArticleStatus, Category, Visibility


class ArticleSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    slug = StrictSlugField(
        max_length=120, required=False, help_text="Made from the title when left out."
    )
    title = StrictCharField(max_length=200)
    body = StrictCharField(max_length=100_000, help_text="Markdown.")
    category = StrictSlugRelatedField(
        slug_field="slug",
        queryset=Category.objects.all(),
        allow_null=True,
        required=False,
        help_text="A category slug.",
    )
    tags = serializers.ListField(
        child=StrictCharField(max_length=50, allow_blank=False), max_length=50, required=False
    )
    status = serializers.ChoiceField(choices=ArticleStatus.choices, required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)

    class Meta:
        model = Article
        fields = ["slug", "title", "body", "category", "tags", "status", "visibility", "updated_at"]
        read_only_fields = ["updated_at"]
