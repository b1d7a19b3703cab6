// Compiled by the test `keywords_guard` WITHOUT QT_NO_KEYWORDS: including a torch header must
// stop the build with the rule's message (core/util/Torch.h), not with torch's own errors.
#include "core/model/MultiExitNet.h"
