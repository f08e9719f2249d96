"""Residents and referrals: intake, the referral workflow and the resident record."""
