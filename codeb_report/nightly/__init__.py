"""The nightly job: one locked run into a dated folder, then the mail."""
