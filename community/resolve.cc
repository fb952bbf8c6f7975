#include "community/resolve.h"
