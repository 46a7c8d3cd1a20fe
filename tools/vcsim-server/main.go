// The vCenter simulator of tools/vcsim: the simulator package of govmomi as
// Debian ships it (golang-github-vmware-govmomi-dev), wrapped into a program
// that serves one inventory on one HTTPS address for the vmware store tests.
//
// What it serves:
//   - /sdk: the vSphere SOAP API (login, inventory look-ups, the property
//     collector, FileManager tasks);
//   - /folder/<path>?dcPath=<datacenter>&dsName=<datastore>: the files of a
//     datastore (GET, HEAD, PUT), but only for a request whose
//     vmware_soap_session cookie names a session that is logged in, as an
//     ESX host or a vCenter answers: 401 otherwise.
//
// Inventory: datacenter DC0 with the datastores LocalDS_0.. (directories
// under $TMPDIR), one cluster host, no virtual machines. Once listening it
// prints KEY=value lines describing itself on stdout.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

// A SOAP call that needs a session and does nothing: CurrentTime.
const probe = `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/">
<Body><CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime></Body>
</Envelope>`

const cookieName = "vmware_soap_session"

// loggedIn asks the SOAP service whether the session of cookie is alive.
func loggedIn(soap http.Handler, cookie string) bool {
	req := httptest.NewRequest(http.MethodPost, "/sdk", strings.NewReader(probe))
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("SOAPAction", "urn:vim25/6.5")
	req.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	answer := httptest.NewRecorder()
	soap.ServeHTTP(answer, req)
	body := answer.Body.String()
	return answer.Code == http.StatusOK && strings.Contains(body, "CurrentTimeResponse")
}

func main() {
	address := flag.String("l", "127.0.0.1:8989", "address to listen on (host:port)")
	user := flag.String("username", "glance", "the user name logins must give")
	password := flag.String("password", "glance-test-secret", "the password logins must give")
	datastores := flag.Int("ds", 1, "datastores in DC0 (LocalDS_0, LocalDS_1, ...)")
	idle := flag.Duration("session-idle", 0, "sessions idle this long end (0: never)")
	certFile := flag.String("cert", "", "PEM certificate to serve (default: the simulator's own, a weak test key)")
	keyFile := flag.String("key", "", "PEM private key of -cert")
	flag.Parse()

	simulator.SessionIdleTimeout = *idle
	model := simulator.VPX()
	model.Datastore = *datastores
	model.Machine = 0
	model.ClusterHost = 1
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	defer model.Remove()
	model.Service.Listen = &url.URL{Host: *address, User: url.UserPassword(*user, *password)}
	model.Service.TLS = new(tls.Config)
	if *certFile != "" {
		pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			log.Fatal(err)
		}
		model.Service.TLS.Certificates = []tls.Certificate{pair}
	}
	server := model.Service.NewServer()
	defer server.Close()

	service := server.Config.Handler
	server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/folder/") {
			c, err := r.Cookie(cookieName)
			if err != nil || c.Value == "" || !loggedIn(service, c.Value) {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		}
		service.ServeHTTP(w, r)
	})

	where := *server.URL
	where.User = nil
	fmt.Printf("VCSIM_URL=%s\nVCSIM_HOST=%s\n", where.String(), where.Host)
	fmt.Printf("VCSIM_USER=%s\nVCSIM_PASSWORD=%s\n", *user, *password)
	fmt.Printf("VCSIM_DATACENTER=DC0\nVCSIM_DATASTORE=LocalDS_0\nVCSIM_DATASTORES=%d\n", *datastores)
	fmt.Printf("VCSIM_STARTED=%s\n", time.Now().UTC().Format(time.RFC3339))
	os.Stdout.Sync()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
