#include "community/annotation.h"
