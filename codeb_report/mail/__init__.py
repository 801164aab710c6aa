"""Mailing the report's PDF: settings, the message, and SMTP delivery with retries."""
