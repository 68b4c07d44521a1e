//! The Cloudflare Worker adapter (issue 5).
