/* SPDX-License-Identifier: MIT */
/*
 * Which library seals and opens transport data (crypto.h, struct
 * wg_aead_impl): chosen once at start, before the packet path's threads,
 * by --aead or UNIGUARD_AEAD (auto, libcrypto or libsodium).
 */
#ifndef UNIGUARD_AEAD_CHOICE_H
#define UNIGUARD_AEAD_CHOICE_H

#include <stdbool.h>

/* Whether word names a choice: "auto", "libcrypto" or "libsodium". */
bool aead_choice_valid(const char *word);

/* Makes the choice (NULL: auto) and logs it at info. auto times both
 * implementations sealing and opening 1420-byte packets for about a
 * millisecond each and takes the faster. */
void aead_choose(const char *word);

#endif
