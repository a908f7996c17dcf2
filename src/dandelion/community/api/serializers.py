from __future__ import annotations

from rest_framework import serializers

from dandelion.community.choices import ArticleKind, ArticleStatus, Language, ProfileVisibility
from dandelion.community.models import (
    AgendaItem,
    Answer,
    Article,
    ArticleVersion,
    Certification,
    CertificationAward,
    Gathering,
    GuestGrant,
    LearningPath,
    MemberProfile,
    Question,
    QuizQuestion,
    Registration,
    Speaker,
)
from dandelion.orgs.api.serializers import VisiblePrimaryKeyField
from dandelion.orgs.models import OrgUnit


class ArticleSerializer(serializers.ModelSerializer):
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    related = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    stale = serializers.BooleanField(read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Article
        fields = ["id", "title", "summary", "body", "kind", "language", "status", "unit", "owner", "tags", "related",
                  "review_by", "stale", "version", "useful_count", "not_useful_count", "source_answer", "url",
                  "created_at", "updated_at"]
        read_only_fields = fields


class ArticleWriteSerializer(serializers.Serializer):
    unit = VisiblePrimaryKeyField(OrgUnit, help_text="The owning unit (the root unit: group-wide).")
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    body = serializers.CharField(max_length=200_000)
    kind = serializers.ChoiceField(choices=ArticleKind.choices, default=ArticleKind.BEST_PRACTICE)
    language = serializers.ChoiceField(choices=Language.choices, default=Language.EN)
    status = serializers.ChoiceField(choices=ArticleStatus.choices, default=ArticleStatus.PUBLISHED)
    review_by = serializers.DateField(required=False, allow_null=True, default=None)
    tags = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=20)


class ArticleUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    summary = serializers.CharField(max_length=300, required=False, allow_blank=True)
    body = serializers.CharField(max_length=200_000, required=False)
    kind = serializers.ChoiceField(choices=ArticleKind.choices, required=False)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    status = serializers.ChoiceField(choices=ArticleStatus.choices, required=False)
    review_by = serializers.DateField(required=False, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=20)
    change_note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ArticleVersionSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ArticleVersion
        fields = ["number", "title", "body", "author", "change_note", "created_at"]
        read_only_fields = fields


class FeedbackSerializer(serializers.Serializer):
    useful = serializers.BooleanField()
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.CharField()
    object_id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()
    language = serializers.CharField()
    rank = serializers.FloatField()
    headline = serializers.CharField(help_text="HTML: the matched words in <mark>, the rest escaped.")


class SearchResultSerializer(serializers.Serializer):
    query = serializers.CharField()
    terms = serializers.ListField(child=serializers.CharField())
    matched_all_terms = serializers.BooleanField()
    backend = serializers.CharField()
    elapsed_ms = serializers.FloatField()
    hits = SearchHitSerializer(many=True)


class AnswerSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Answer
        fields = ["id", "question", "author", "body", "is_accepted", "created_at"]
        read_only_fields = fields


class QuestionSerializer(serializers.ModelSerializer):
    asker = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    answers = AnswerSerializer(many=True, read_only=True)

    class Meta:
        model = Question
        fields = ["id", "title", "body", "language", "asker", "tags", "accepted_at", "answers", "created_at"]
        read_only_fields = fields


class QuestionWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=200_000, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=Language.choices, default=Language.EN)
    tags = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=20)


class AnswerWriteSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=200_000)


class AcceptSerializer(serializers.Serializer):
    answer = serializers.IntegerField()


class SpeakerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Speaker
        fields = ["id", "name", "affiliation", "bio", "is_guest"]
        read_only_fields = fields


class AgendaItemSerializer(serializers.ModelSerializer):
    speaker = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)

    class Meta:
        model = AgendaItem
        fields = ["starts_at", "title", "speaker"]
        read_only_fields = fields


class GatheringSerializer(serializers.ModelSerializer):
    speakers = SpeakerSerializer(many=True, read_only=True)
    agenda = AgendaItemSerializer(many=True, read_only=True)
    going = serializers.IntegerField(read_only=True, default=0)
    waitlisted = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Gathering
        fields = ["id", "title", "description", "unit", "starts_at", "ends_at", "place", "online_url", "capacity",
                  "is_cancelled", "series_key", "speakers", "agenda", "going", "waitlisted", "created_at"]
        read_only_fields = fields


class SpeakerWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    affiliation = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    bio = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    is_guest = serializers.BooleanField(default=False)


class AgendaWriteSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    title = serializers.CharField(max_length=200)
    speaker = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class GatheringWriteSerializer(serializers.Serializer):
    unit = VisiblePrimaryKeyField(OrgUnit)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=50_000, required=False, allow_blank=True, default="")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    place = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    online_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    capacity = serializers.IntegerField(min_value=1, max_value=100_000, default=50)
    speakers = SpeakerWriteSerializer(many=True, required=False)
    agenda = AgendaWriteSerializer(many=True, required=False)

    def validate(self, attrs):
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": "The gathering must end after it starts."})
        return attrs


class GatheringSeriesWriteSerializer(GatheringWriteSerializer):
    every_months = serializers.IntegerField(min_value=1, max_value=12, default=2)
    count = serializers.IntegerField(min_value=1, max_value=24, default=6)


class RegistrationSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Registration
        fields = ["id", "gathering", "user", "status", "registered_at", "promoted_at", "cancelled_at"]
        read_only_fields = fields


class MemberProfileSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = MemberProfile
        fields = ["id", "user", "username", "name", "unit", "unit_name", "headline", "bio", "networks", "languages",
                  "skills", "contact_email", "phone", "chat", "open_to_questions", "visibility", "updated_at"]
        read_only_fields = fields


class MemberProfileWriteSerializer(serializers.Serializer):
    unit = VisiblePrimaryKeyField(OrgUnit, required=False, help_text="The unit you work for.")
    headline = serializers.CharField(max_length=200, required=False, allow_blank=True)
    bio = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    networks = serializers.ListField(child=serializers.CharField(max_length=60), max_length=20, required=False)
    languages = serializers.ListField(child=serializers.CharField(max_length=2), max_length=20, required=False)
    skills = serializers.ListField(child=serializers.CharField(max_length=60), max_length=20, required=False)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    chat = serializers.CharField(max_length=150, required=False, allow_blank=True)
    open_to_questions = serializers.BooleanField(required=False)
    visibility = serializers.ChoiceField(choices=ProfileVisibility.choices, required=False)
    weekly_digest = serializers.BooleanField(required=False, help_text="Receive the weekly digest e-mail.")


class AskExpertSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=Language.choices, default=Language.EN)


class MissingSerializer(serializers.Serializer):
    what = serializers.CharField()
    label = serializers.CharField()
    url = serializers.CharField()


class PublishDecisionSerializer(serializers.Serializer):
    unit = serializers.IntegerField()
    allowed = serializers.BooleanField()
    message = serializers.CharField()
    path_url = serializers.CharField()
    missing = MissingSerializer(many=True)


# --- waiting list, learning paths, certifications -------------------------------------------------------------------


class WaitingEntrySerializer(serializers.Serializer):
    position = serializers.IntegerField()
    user = serializers.CharField(help_text="The username.")
    registered_at = serializers.DateTimeField()


class WaitingListSerializer(serializers.Serializer):
    gathering = serializers.IntegerField()
    capacity = serializers.IntegerField()
    going = serializers.IntegerField()
    my_status = serializers.CharField(allow_blank=True, help_text="going, waitlisted, cancelled, or empty.")
    my_position = serializers.IntegerField(allow_null=True)
    waiting = WaitingEntrySerializer(many=True, allow_null=True,
                                     help_text="The whole list, in order: for the gathering's organisers only.")


class CertificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Certification
        fields = ["id", "name", "path", "validity_days"]
        read_only_fields = fields


class PathStepSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    article = serializers.IntegerField(source="article_id")
    title = serializers.CharField(source="article.title")


class QuizQuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = QuizQuestion
        fields = ["id", "text", "choices"]  # never the right answers
        read_only_fields = fields


class LearningPathSerializer(serializers.ModelSerializer):
    steps = PathStepSerializer(many=True, read_only=True)
    quiz = QuizQuestionSerializer(many=True, read_only=True)
    certification = CertificationSerializer(read_only=True, allow_null=True)

    class Meta:
        model = LearningPath
        fields = ["id", "title", "description", "unit", "pass_mark", "steps", "quiz", "certification"]
        read_only_fields = fields


class QuizAnswersSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=100), max_length=20),
        help_text="Question id → the indexes of the chosen choices.")

    def validate_answers(self, value):
        if len(value) > 200:
            raise serializers.ValidationError("Too many answers.")
        try:
            return {int(k): v for k, v in value.items()}
        except (TypeError, ValueError) as exc:
            raise serializers.ValidationError("Question ids are integers.") from exc


class CertificationAwardSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    certification_name = serializers.CharField(source="certification.name", read_only=True)
    is_valid = serializers.BooleanField(read_only=True)

    class Meta:
        model = CertificationAward
        fields = ["id", "certification", "certification_name", "user", "awarded_at", "expires_at", "score",
                  "is_valid"]
        read_only_fields = fields


class QuizResultSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    passed = serializers.BooleanField()
    award = CertificationAwardSerializer(allow_null=True)


class HolderSerializer(serializers.Serializer):
    user = serializers.CharField()
    unit = serializers.IntegerField()
    unit_name = serializers.CharField()
    role = serializers.CharField()
    may_publish = serializers.BooleanField()
    missing = MissingSerializer(many=True)
    certifications = CertificationAwardSerializer(many=True)


# --- invited guests ---------------------------------------------------------------------------------------------------


class GuestInvitationSerializer(serializers.ModelSerializer):
    """An invited guest's access to one gathering (``active``: not revoked and not past ``expires_at``)."""

    email = serializers.EmailField(source="account.user.email", read_only=True)
    name = serializers.SerializerMethodField()
    gathering_title = serializers.CharField(source="gathering.title", read_only=True)
    language = serializers.CharField(source="account.language", read_only=True)
    activated_at = serializers.DateTimeField(source="account.activated_at", read_only=True, allow_null=True)
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = GuestGrant
        fields = ["id", "gathering", "gathering_title", "email", "name", "role", "language", "expires_at",
                  "created_at", "revoked_at", "activated_at", "active"]
        read_only_fields = fields

    def get_name(self, grant) -> str:
        user = grant.account.user
        return user.get_full_name() or user.get_username()


class GuestInvitationWriteSerializer(serializers.Serializer):
    gathering = serializers.IntegerField(help_text="A gathering you organise (``community.change_gathering``).")
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=GuestGrant.Role.choices, default=GuestGrant.Role.SPEAKER)
    affiliation = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=Language.choices, required=False, allow_blank=True, default="")
    bio = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
