/*
 * k8s-img-probe URL — the health check inside every k8s-img image.
 *
 * Scratch images have no shell and no curl, and a Go probe would add ~5 MB to
 * each image; this static C program adds a few hundred KB. It sends one GET to
 * URL (http or https; the certificate is not verified: health endpoints are
 * probed on the node itself, often before any CA exists) and exits 0 when the
 * answer is 2xx, 1 otherwise, printing the status line or the error.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/ssl.h>

#ifndef PROBE_VERSION
#define PROBE_VERSION "dev"
#endif

#define TIMEOUT_MS 4000

struct url {
  int tls;
  char host[256];
  char port[8];
  char path[1024];
};

static int parse_url(const char *s, struct url *u) {
  const char *rest;
  if (strncmp(s, "http://", 7) == 0) {
    u->tls = 0;
    rest = s + 7;
  } else if (strncmp(s, "https://", 8) == 0) {
    u->tls = 1;
    rest = s + 8;
  } else {
    return -1;
  }
  const char *slash = strchr(rest, '/');
  size_t hostlen = slash ? (size_t)(slash - rest) : strlen(rest);
  if (hostlen == 0 || hostlen >= sizeof u->host) return -1;
  memcpy(u->host, rest, hostlen);
  u->host[hostlen] = 0;
  snprintf(u->path, sizeof u->path, "%s", slash ? slash : "/");
  char *colon = strrchr(u->host, ':');
  if (colon) {
    *colon = 0;
    snprintf(u->port, sizeof u->port, "%s", colon + 1);
  } else {
    snprintf(u->port, sizeof u->port, "%s", u->tls ? "443" : "80");
  }
  return 0;
}

/* Checks "HTTP/1.x NNN" and prints the status line. */
static int check_status(const char *buf) {
  const char *sp = strchr(buf, ' ');
  if (strncmp(buf, "HTTP/1.", 7) != 0 || !sp) {
    fprintf(stderr, "probe: not an HTTP answer\n");
    return 1;
  }
  int code = atoi(sp + 1);
  const char *eol = strpbrk(buf, "\r\n");
  printf("%.*s\n", eol ? (int)(eol - buf) : (int)strlen(buf), buf);
  return (code >= 200 && code < 300) ? 0 : 1;
}

/* Connects to an IPv4 literal (or "localhost"): health checks never need DNS. */
static int dial(const struct url *u) {
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)atoi(u->port));
  const char *host = strcmp(u->host, "localhost") == 0 ? "127.0.0.1" : u->host;
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    fprintf(stderr, "probe: %s: not an IPv4 address\n", u->host);
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct timeval tv = {TIMEOUT_MS / 1000, 0};
  if (fd < 0) return -1;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    fprintf(stderr, "probe: connect %s:%s: %s\n", u->host, u->port, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

static int plain_get(const struct url *u, const char *req) {
  int fd = dial(u);
  if (fd < 0) return 1;
  char buf[512] = {0};
  if (write(fd, req, strlen(req)) < 0 || read(fd, buf, sizeof buf - 1) <= 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      fprintf(stderr, "probe: %s:%s: no answer within %d s\n", u->host, u->port, TIMEOUT_MS / 1000);
    else
      fprintf(stderr, "probe: %s:%s: %s\n", u->host, u->port, strerror(errno));
    close(fd);
    return 1;
  }
  close(fd);
  return check_status(buf);
}

static int bio_send(void *ctx, const unsigned char *b, size_t n) {
  ssize_t r = write(*(int *)ctx, b, n);
  return r < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)r;
}

static int bio_recv(void *ctx, unsigned char *b, size_t n) {
  ssize_t r = read(*(int *)ctx, b, n);
  if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? MBEDTLS_ERR_SSL_TIMEOUT : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
  return (int)r;
}

static int tls_fail(const char *what, int err) {
  char msg[160];
  mbedtls_strerror(err, msg, sizeof msg);
  fprintf(stderr, "probe: %s: %s\n", what, msg);
  return 1;
}

static int tls_get(const struct url *u, const char *req) {
  int fd = -1;
  mbedtls_ssl_context ssl;
  mbedtls_ssl_config conf;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  int ret, result = 1;
  char buf[512] = {0};

  mbedtls_ssl_init(&ssl);
  mbedtls_ssl_config_init(&conf);
  mbedtls_entropy_init(&entropy);
  mbedtls_ctr_drbg_init(&drbg);

  if ((ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0)) != 0) {
    result = tls_fail("seed", ret);
    goto out;
  }
  if ((fd = dial(u)) < 0) goto out;
  mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
  mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);
  mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    if ((ret = mbedtls_ssl_setup(&ssl, &conf)) != 0) {
    result = tls_fail("setup", ret);
    goto out;
  }
  mbedtls_ssl_set_hostname(&ssl, u->host);
  mbedtls_ssl_set_bio(&ssl, &fd, bio_send, bio_recv, NULL);
  while ((ret = mbedtls_ssl_handshake(&ssl)) != 0) {
    if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
      result = tls_fail("handshake", ret);
      goto out;
    }
  }
  if ((ret = mbedtls_ssl_write(&ssl, (const unsigned char *)req, strlen(req))) < 0) {
    result = tls_fail("write", ret);
    goto out;
  }
  if ((ret = mbedtls_ssl_read(&ssl, (unsigned char *)buf, sizeof buf - 1)) <= 0) {
    result = tls_fail("read", ret);
    goto out;
  }
  result = check_status(buf);
out:
  if (fd >= 0) {
    mbedtls_ssl_close_notify(&ssl);
    close(fd);
  }
  mbedtls_ssl_free(&ssl);
  mbedtls_ssl_config_free(&conf);
  mbedtls_ctr_drbg_free(&drbg);
  mbedtls_entropy_free(&entropy);
  return result;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("k8s-img-probe %s\n", PROBE_VERSION);
    return 0;
  }
  struct url u;
  if (argc != 2 || parse_url(argv[1], &u) != 0) {
    fprintf(stderr, "usage: k8s-img-probe http[s]://host:port/path\n");
    return 2;
  }
  char req[1400];
  snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: k8s-img-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n",
           u.path, u.host);
  return u.tls ? tls_get(&u, req) : plain_get(&u, req);
}
