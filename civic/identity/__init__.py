"""E-citizens (citizens, foreign residents, businesses, NGOs), officials, agencies, sessions, verification."""
