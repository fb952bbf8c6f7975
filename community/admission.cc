#include "community/admission.h"
