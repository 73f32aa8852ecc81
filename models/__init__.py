"""Tables and domain types shared by the API (`app`) and the scanner (`scanner`)."""
