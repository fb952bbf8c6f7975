#include "community/label_selector.h"
