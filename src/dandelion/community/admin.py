from django.contrib import admin

from dandelion.community import models


@admin.register(models.Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "language", "status", "unit", "review_by", "version")
    list_filter = ("kind", "language", "status")
    search_fields = ("title",)


@admin.register(models.Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("title", "asker", "accepted_at")


@admin.register(models.Gathering)
class GatheringAdmin(admin.ModelAdmin):
    list_display = ("title", "unit", "starts_at", "capacity", "is_cancelled")


@admin.register(models.MemberProfile)
class MemberProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "unit", "headline", "open_to_questions", "visibility")
    list_filter = ("open_to_questions", "visibility")
    search_fields = ("user__username", "headline")


for model in (models.Tag, models.Answer, models.ArticleVersion, models.ArticleFeedback, models.Speaker,
              models.AgendaItem, models.Registration, models.Material, models.LearningPath, models.PathStep,
              models.QuizQuestion, models.Certification, models.CertificationAward, models.RoleRequirement,
              models.GuestAccount, models.GuestGrant):
    admin.site.register(model)
