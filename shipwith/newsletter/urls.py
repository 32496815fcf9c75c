from django.urls import path

from shipwith.newsletter import views

app_name = "newsletter"

urlpatterns = [
    path("", views.signup, name="signup"),
    path("check-your-inbox/", views.check_inbox, name="check_inbox"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("archive/", views.archive, name="archive"),
    path("archive/<slug:slug>/", views.issue_detail, name="issue"),
    path("preview/", views.preview, name="preview"),
    path("preview/email.<str:part>", views.preview_email, name="preview_email"),
]
