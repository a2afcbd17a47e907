"""Versioned configuration on the admin screens: save, compare, activate and roll back the files a
bank edits without code (the store and the versions in force are `bankvoc.core.configstore`)."""
