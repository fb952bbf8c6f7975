#include "community/admission.h"

#include <gtest/gtest.h>
