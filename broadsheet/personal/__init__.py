"""A research feed of one's own: For-you ranking, recommendations, reference exports."""
