"""Email transport for referrals to authorities whose front door takes referrals by secure email."""
