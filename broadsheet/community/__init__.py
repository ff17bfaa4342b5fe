"""People and what they do: accounts, tokens, submissions, votes, comments, collections, follows."""
