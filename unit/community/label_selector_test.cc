#include "community/label_selector.h"

#include <gtest/gtest.h>
