import hashlib
import secrets

from django import forms
from django.conf import settings
from django.core import signing

from core.images import SafeImageField, sanitize_field
from core.validators import no_control_characters
from initiatives.models import Category, Collectivity, Initiative, Theme
from initiatives.search import fold
from vigilance.models import VigilancePoint

MAX_CANDIDATES = 30
FORM_TOKEN_SALT = "surveys.submission-form"  # noqa: S105 a namespace, not a secret
FORM_TOKEN_MAX_AGE = 24 * 3600


# What a collectivity tells of its initiative, on the public form and in a CSV
# of answers entered by staff (surveys.imports.ANSWER_COLUMNS).
INITIATIVE_FIELDS = [
    "title",
    "summary",
    "description",
    "category",
    "themes",
    "vigilance_points",
    "period",
    "website",
]
# The submitter's contact data: a Submission's, never the initiative's.
CONTACT_FIELDS = ["submitter_name", "submitter_email", "submitter_role"]


def form_token() -> str:
    """Sign the time the form was shown, to refuse forms sent too fast, with
    a random part: the token names one display of the form, so that the same
    form sent twice (a retry after a lost answer) is recognised."""
    return signing.TimestampSigner(salt=FORM_TOKEN_SALT).sign(secrets.token_urlsafe(9))


class ContactMixin:
    def contact(self):
        """The submitter's contact data, for the Submission."""
        return {name: self.cleaned_data[name] for name in CONTACT_FIELDS}


class SubmissionForm(ContactMixin, forms.ModelForm):
    """The public call-for-ideas form: an initiative, its collectivity found
    among the official ones, and the submitter's private contact data."""

    collectivity_query = forms.CharField(
        label="Votre collectivité",
        max_length=200,
        validators=[no_control_characters],
        help_text="Nom, code postal ou code INSEE, par exemple « Béthune » ou "
        "« 62400 ». Le département est déduit du référentiel officiel.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "list": "collectivity-options"}
        ),
    )
    collectivity_code = forms.CharField(
        required=False, max_length=9, widget=forms.HiddenInput
    )
    image = SafeImageField(label="Image (facultative)", required=False)
    submitter_name = forms.CharField(
        label="Votre nom", max_length=150, validators=[no_control_characters]
    )
    submitter_email = forms.EmailField(label="Votre adresse électronique")
    submitter_role = forms.CharField(
        label="Votre fonction",
        max_length=150,
        validators=[no_control_characters],
        help_text="Par exemple « chargée de mission numérique ».",
    )
    has_consented = forms.BooleanField(
        label="J'accepte que Villes Internet conserve ces données de contact pour "
        "traiter ma proposition, trois ans au plus.",
        error_messages={
            "required": "Votre accord est nécessaire pour traiter la proposition."
        },
    )
    # Left empty by people: the field is hidden from them, not from robots.
    fax_number = forms.CharField(
        label="Laissez ce champ vide", required=False, max_length=50
    )
    started = forms.CharField(widget=forms.HiddenInput)

    class Meta:
        model = Initiative
        fields = [*INITIATIVE_FIELDS, "image_alt"]
        widgets = {
            "category": forms.RadioSelect,
            "themes": forms.CheckboxSelectMultiple,
            "vigilance_points": forms.CheckboxSelectMultiple,
            "summary": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"title": "Titre de l'initiative", "website": "Site internet"}
        help_texts = {
            "title": "200 caractères au plus.",
            "description": "Ce qui a été fait, pour qui, avec quels moyens ; "
            "10 000 caractères au plus.",
            "image_alt": "Obligatoire si vous joignez une image : décrivez ce "
            "qu'elle montre pour les personnes qui ne la voient pas.",
        }

    def __init__(self, *args, survey=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = []
        self.fields["started"].initial = form_token()
        if survey is not None:
            self.fields["category"].queryset = survey.categories.all()
        self.fields["category"].empty_label = None
        self.fields["themes"].required = True
        self.fields["description"].max_length = 10_000
        self.fields["description"].widget.attrs["maxlength"] = 10_000

    def clean_fax_number(self):
        if self.cleaned_data["fax_number"]:
            raise forms.ValidationError(
                "Votre envoi n'a pas pu être accepté. Si vous êtes une personne, "
                "laissez vide le champ « Laissez ce champ vide ».",
                code="honeypot",
            )
        return ""

    def digest(self) -> str:
        """Name this display of the form (its token, hashed): the same form
        sent again is the same submission."""
        token = self.cleaned_data["started"].encode()
        return hashlib.sha256(token).hexdigest()

    def full_clean(self):
        super().full_clean()
        if self.is_bound and self.has_error("started"):
            # Shown again with a new token: the refused one would be refused
            # again however right the other answers are.
            self.data = self.data.copy()
            self.data["started"] = form_token()

    def clean_started(self):
        token = self.cleaned_data["started"]
        signer = signing.TimestampSigner(salt=FORM_TOKEN_SALT)
        try:
            signer.unsign(token, max_age=FORM_TOKEN_MAX_AGE)
        except signing.SignatureExpired as error:
            raise forms.ValidationError(
                "Le formulaire a été ouvert il y a plus de 24 heures : rechargez la "
                "page, vérifiez vos réponses puis envoyez-le à nouveau.",
                code="stale",
            ) from error
        except signing.BadSignature as error:
            raise forms.ValidationError(
                "Le formulaire a expiré : rechargez la page et envoyez-le à nouveau.",
                code="expired",
            ) from error
        try:
            signer.unsign(token, max_age=settings.SUBMISSION_MIN_SECONDS)
        except signing.SignatureExpired:
            return token  # old enough to have been filled by a person
        raise forms.ValidationError(
            "Le formulaire a été envoyé trop vite. Vérifiez vos réponses puis "
            "envoyez-le à nouveau.",
            code="too_fast",
        )

    def clean(self):
        cleaned = super().clean()
        collectivity = self.resolve_collectivity(
            cleaned.get("collectivity_code", ""), cleaned.get("collectivity_query", "")
        )
        if collectivity is not None:
            self.instance.collectivity = collectivity
            cleaned["collectivity"] = collectivity
        if cleaned.get("image") and not cleaned.get("image_alt", "").strip():
            self.add_error(
                "image_alt",
                "Décrivez l'image : ce texte est lu à la place de l'image.",
            )
        sanitize_field(self)  # last: decodes only a form valid otherwise
        return cleaned

    def resolve_collectivity(self, code, query):
        """Find the one official collectivity meant, or explain why not."""
        if code:
            found = Collectivity.objects.filter(code=code).first()
            if found is None:
                self.add_error("collectivity_query", "Collectivité inconnue.")
            return found
        if not query.strip():
            return None
        matches = list(
            Collectivity.objects.matching(query)
            .select_related("department")
            .order_by("-population")[: MAX_CANDIDATES + 1]
        )
        exact = [c for c in matches if fold(c.name) == fold(query)]
        if len(matches) == 1 or len(exact) == 1:
            return exact[0] if len(exact) == 1 else matches[0]
        if not matches:
            self.add_error(
                "collectivity_query",
                "Aucune commune ni intercommunalité ne correspond. Vérifiez "
                "l'orthographe, ou indiquez le code postal ou le code INSEE.",
            )
            return None
        self.candidates = matches[:MAX_CANDIDATES]
        self.add_error(
            "collectivity_query",
            "Plusieurs collectivités correspondent : choisissez la vôtre dans la "
            "liste proposée, ou précisez le nom, le code postal ou le code INSEE.",
        )
        return None

    def save(self, commit=False):
        initiative = super().save(commit=False)
        if self.cleaned_data.get("image"):
            initiative.attach_image(self.cleaned_data["image"])
        return initiative


class AnswerForm(ContactMixin, forms.ModelForm):
    """One row of a CSV of survey answers entered by staff."""

    collectivity_code = forms.CharField(label="collectivity_code", max_length=9)
    category = forms.ModelChoiceField(
        Category.objects.all(), to_field_name="slug", label="category"
    )
    themes = forms.ModelMultipleChoiceField(
        Theme.objects.all(), to_field_name="slug", label="themes"
    )
    vigilance_points = forms.ModelMultipleChoiceField(
        VigilancePoint.objects.all(),
        to_field_name="slug",
        required=False,
        label="vigilance_points",
    )
    submitter_name = forms.CharField(
        max_length=150, required=False, validators=[no_control_characters]
    )
    submitter_email = forms.EmailField(required=False)
    submitter_role = forms.CharField(
        max_length=150, required=False, validators=[no_control_characters]
    )
    consent = forms.ChoiceField(
        choices=[("oui", "oui")],
        label="consent",
        error_messages={"invalid_choice": "le consentement doit valoir « oui »."},
    )

    class Meta:
        model = Initiative
        fields = INITIATIVE_FIELDS

    def clean_collectivity_code(self):
        code = self.cleaned_data["collectivity_code"].strip().upper()
        collectivity = Collectivity.objects.filter(code=code).first()
        if collectivity is None:
            raise forms.ValidationError(
                f"aucune collectivité n'a le code officiel « {code} »."
            )
        self.instance.collectivity = collectivity
        return code
