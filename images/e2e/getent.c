/*
 * getent for the e2e agnhost image, linked statically against musl.
 *
 * Upstream's agnhost is Alpine, so the "musl" DNS probes of test/e2e/network/dns.go
 * resolve `getent hosts NAME` with musl's resolver (dig has its own, whatever the libc).
 * On our Debian agnhost this program keeps that true: hosts and ahosts are answered by
 * musl; every other database goes to Debian's glibc getent.
 *
 * Output as getent's: "ADDRESS NAME" per address; exit 2 when a key is not found.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define GLIBC_GETENT "/usr/bin/getent"

static int by_address(const char *key)
{
	unsigned char buf[16];
	struct hostent *h = NULL;
	if (inet_pton(AF_INET, key, buf) == 1)
		h = gethostbyaddr(buf, 4, AF_INET);
	else if (inet_pton(AF_INET6, key, buf) == 1)
		h = gethostbyaddr(buf, 16, AF_INET6);
	else
		return -1;
	if (!h)
		return 2;
	printf("%-15s %s", key, h->h_name);
	for (char **a = h->h_aliases; a && *a; a++)
		if (strcmp(*a, h->h_name) != 0)
			printf(" %s", *a);
	putchar('\n');
	return 0;
}

static int by_name(const char *key, int all)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_flags = AI_CANONNAME }, *res, *ai;
	char text[INET6_ADDRSTRLEN], seen[64][INET6_ADDRSTRLEN];
	int nseen = 0;

	if (!all)
		hints.ai_socktype = SOCK_STREAM; /* one entry per address, as `getent hosts` prints */
	if (getaddrinfo(key, NULL, &hints, &res) != 0)
		return 2;
	for (ai = res; ai; ai = ai->ai_next) {
		const void *addr = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
							    : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		int dup = 0;
		if (!inet_ntop(ai->ai_family, addr, text, sizeof text))
			continue;
		for (int i = 0; i < nseen && !all; i++)
			dup |= strcmp(seen[i], text) == 0;
		if (dup)
			continue;
		if (nseen < 64)
			strcpy(seen[nseen++], text);
		if (all)
			printf("%-15s %-6s %s\n", text, ai->ai_socktype == SOCK_DGRAM ? "DGRAM" : ai->ai_socktype == SOCK_RAW ? "RAW" : "STREAM",
			       ai == res && res->ai_canonname ? res->ai_canonname : "");
		else
			printf("%-15s %s\n", text, res->ai_canonname ? res->ai_canonname : key);
	}
	freeaddrinfo(res);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 0;
	if (argc < 2 || (strcmp(argv[1], "hosts") != 0 && strcmp(argv[1], "ahosts") != 0)) {
		execv(GLIBC_GETENT, argv);
		perror(GLIBC_GETENT);
		return 1;
	}
	if (argc == 2) {
		fprintf(stderr, "getent: enumerating %s is not supported here (musl has no host database iteration)\n", argv[1]);
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		int r = strcmp(argv[1], "hosts") == 0 ? by_address(argv[i]) : -1;
		if (r < 0)
			r = by_name(argv[i], strcmp(argv[1], "ahosts") == 0);
		if (r)
			rc = r;
	}
	return rc;
}
