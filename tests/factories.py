import factory
from django.utils import timezone

from initiatives.models import Category, Collectivity, Department, Initiative, Theme


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Catégorie {n}")
    slug = factory.Sequence(lambda n: f"categorie-{n}")


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme

    name = factory.Sequence(lambda n: f"Thème {n}")
    slug = factory.Sequence(lambda n: f"theme-{n}")


class CollectivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collectivity

    name = factory.Sequence(lambda n: f"Ville d'essai {n}")
    slug = factory.Sequence(lambda n: f"ville-essai-{n}")
    kind = Collectivity.Kind.COMMUNE
    code = factory.Sequence(lambda n: f"X{n:04d}")
    department = factory.LazyFunction(lambda: Department.objects.get(code="13"))


class InitiativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Initiative

    title = factory.Sequence(lambda n: f"Initiative {n}")
    slug = factory.Sequence(lambda n: f"initiative-{n}")
    collectivity = factory.SubFactory(CollectivityFactory)
    category = factory.SubFactory(CategoryFactory)
    summary = "Un résumé."
    description = "Une description."

    class Params:
        published = factory.Trait(
            status=Initiative.Status.PUBLISHED,
            published_at=factory.LazyFunction(timezone.now),
        )
