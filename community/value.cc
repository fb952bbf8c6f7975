#include "community/value.h"
