"""The declassification schedule as an API: what is due, what is overdue, summaries,
CSV and iCalendar exports, calendar feed tokens, and `reschedule_cable` for the review
workflow. The dates themselves come from the pure engine in `service.schedule`."""
