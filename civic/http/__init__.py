"""HTTP plumbing shared by every module's routes: errors, CSRF, security headers, JSON API, templates."""
