"""English function words, shared by keyword extraction and search.

Keyword extraction never lets a phrase hold one; search tells a typed bag of keywords ("diffusion video
editing") from a sentence ("diffusion models are used for video editing") by them.
"""

from __future__ import annotations

_FUNCTION_WORDS = """
a about above across after again against all almost along already also although always am among an and
another any anyone anything are around as at be because been before being below between both but by can
cannot could did do does doing done down during each either else enough etc even ever every few for from
further had has have having he her here hers herself him himself his how however i if in into is it its
itself just least less many may me might more most much must my myself neither no nor not now of off
often on once one only onto or other others otherwise our ours ourselves out over own per perhaps rather
same several she should since so some such than that the their theirs them themselves then there thereby
therefore these they this those though through thus to together too toward towards under unless until up
upon us very via was we well were what whatever when where whereas whether which while who whom whose why
will with within without would yet you your yours via vs versus i.e. e.g. et al. etc. cf. ie eg
"""

FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())
