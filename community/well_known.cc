#include "community/well_known.h"
