"""Print the console's messages that the Persian catalogue lacks, as entries to translate and
append to app/web/locale/fa/LC_MESSAGES/messages.po."""

from app.web.messages import main

main()
