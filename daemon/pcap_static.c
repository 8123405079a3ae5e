/* SPDX-License-Identifier: MIT */
/*
 * For the static binary only (UNIGUARD_PCAP_NO_DBUS): stand-ins for the
 * D-Bus calls of libpcap's D-Bus capture source.
 *
 * Debian builds libpcap with a capture source for D-Bus message buses, so
 * its libpcap.a refers to libdbus-1, whose own static library needs
 * libsystemd, which has none. uniguard uses libpcap for files only (it
 * never opens a live capture, let alone one on "dbus-system"), so these
 * are never called; if anything ever did, they answer as a bus that
 * cannot be reached, and libpcap reports that device as unavailable.
 *
 * The prototypes are libdbus-1's, spelled with opaque pointers so that no
 * D-Bus header is needed.
 */
#ifdef UNIGUARD_PCAP_NO_DBUS

#include <stddef.h>
#include <stdint.h>

void *dbus_bus_get(int type, void *error);
void dbus_bus_add_match(void *conn, const char *rule, void *error);
uint32_t dbus_bus_register(void *conn, void *error);
void dbus_connection_flush(void *conn);
void *dbus_connection_open(const char *address, void *error);
void *dbus_connection_pop_message(void *conn);
uint32_t dbus_connection_read_write(void *conn, int timeout_ms);
uint32_t dbus_connection_send(void *conn, void *msg, uint32_t *serial);
void dbus_connection_set_max_received_size(void *conn, long size);
void dbus_connection_unref(void *conn);
void dbus_error_free(void *error);
uint32_t dbus_error_is_set(const void *error);
void dbus_free(void *memory);
void *dbus_message_demarshal(const char *str, int len, void *error);
uint32_t dbus_message_is_signal(void *msg, const char *iface,
				const char *name);
uint32_t dbus_message_marshal(void *msg, char **marshalled, int *len);
void dbus_message_unref(void *msg);

void *dbus_bus_get(int type, void *error)
{
	(void)type;
	(void)error;
	return NULL;
}

void dbus_bus_add_match(void *conn, const char *rule, void *error)
{
	(void)conn;
	(void)rule;
	(void)error;
}

uint32_t dbus_bus_register(void *conn, void *error)
{
	(void)conn;
	(void)error;
	return 0;
}

void dbus_connection_flush(void *conn)
{
	(void)conn;
}

void *dbus_connection_open(const char *address, void *error)
{
	(void)address;
	(void)error;
	return NULL;
}

void *dbus_connection_pop_message(void *conn)
{
	(void)conn;
	return NULL;
}

uint32_t dbus_connection_read_write(void *conn, int timeout_ms)
{
	(void)conn;
	(void)timeout_ms;
	return 0;
}

uint32_t dbus_connection_send(void *conn, void *msg, uint32_t *serial)
{
	(void)conn;
	(void)msg;
	(void)serial;
	return 0;
}

void dbus_connection_set_max_received_size(void *conn, long size)
{
	(void)conn;
	(void)size;
}

void dbus_connection_unref(void *conn)
{
	(void)conn;
}

void dbus_error_free(void *error)
{
	(void)error;
}

uint32_t dbus_error_is_set(const void *error)
{
	/* "An error is set": callers give up at once. */
	(void)error;
	return 1;
}

void dbus_free(void *memory)
{
	(void)memory;
}

void *dbus_message_demarshal(const char *str, int len, void *error)
{
	(void)str;
	(void)len;
	(void)error;
	return NULL;
}

uint32_t dbus_message_is_signal(void *msg, const char *iface,
				const char *name)
{
	(void)msg;
	(void)iface;
	(void)name;
	return 0;
}

uint32_t dbus_message_marshal(void *msg, char **marshalled, int *len)
{
	(void)msg;
	(void)marshalled;
	(void)len;
	return 0;
}

void dbus_message_unref(void *msg)
{
	(void)msg;
}

#else

/* ISO C wants something in every translation unit. */
typedef int uniguard_pcap_static_unused;

#endif
