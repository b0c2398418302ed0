/* minilibc: feature-test macros are accepted; every interface is always declared. */
#ifndef _FEATURES_H
#define _FEATURES_H
#endif
