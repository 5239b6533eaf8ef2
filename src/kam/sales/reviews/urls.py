from django.urls import path

from kam.sales.reviews.views import (
    meeting_add,
    meeting_detail,
    meeting_export,
    meeting_list,
    meeting_minutes,
    review_decide,
    review_detail,
    review_export,
    review_list,
    review_new,
    review_recommend,
    review_schedule,
    review_send_to_senior,
    review_sheet,
    review_withdraw,
)

urlpatterns = [
    path("reviews/", review_list, name="reviews"),
    path("reviews/export/", review_export, name="reviews_export"),
    path("reviews/new/<id:opportunity_pk>/", review_new, name="review_new"),
    path("reviews/<id:pk>/", review_detail, name="review"),
    path("reviews/<id:pk>/recommend/", review_recommend, name="review_recommend"),
    path("reviews/<id:pk>/decide/", review_decide, name="review_decide"),
    path("reviews/<id:pk>/senior/", review_send_to_senior, name="review_send_to_senior"),
    path("reviews/<id:pk>/withdraw/", review_withdraw, name="review_withdraw"),
    path("reviews/<id:pk>/schedule/", review_schedule, name="review_schedule"),
    path("reviews/<id:pk>/sheet/", review_sheet, name="review_sheet"),
    path("reviews/meetings/", meeting_list, name="meetings"),
    path("reviews/meetings/<id:pk>/", meeting_detail, name="meeting"),
    path("reviews/meetings/<id:pk>/add/", meeting_add, name="meeting_add"),
    path("reviews/meetings/<id:pk>/minutes/", meeting_minutes, name="meeting_minutes"),
    path("reviews/meetings/<id:pk>/export/", meeting_export, name="meeting_export"),
]
