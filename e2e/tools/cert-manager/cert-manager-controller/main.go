// Command cert-manager-controller runs cert-manager's own controllers for Certificates
// issued by selfSigned and CA Issuers (and ClusterIssuers) against a cluster, as the
// controller binary of a cert-manager release does: leader election on a Lease, one
// shared informer factory, every controller from cert-manager's registry
// (github.com/cert-manager/cert-manager/pkg/controller).
//
// Why a main of our own: cert-manager's controller command lives in the Go module
// github.com/cert-manager/cert-manager/controller-binary (cmd/controller), whose go.mod
// replaces cert-manager with ../../; it is not served by the Go module proxy and could
// not be built from it if it were. Everything this program runs is cert-manager's code
// from the pinned github.com/cert-manager/cert-manager module; only the wiring is here.
// The ACME, Vault and Venafi issuers, ingress-shim and metrics are left out: the e2e
// tests use selfSigned and CA issuers only.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	crapprover "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
)

// The controllers a Certificate from a selfSigned or CA issuer goes through, by their
// names in cert-manager's registry.
var controllers = []string{
	issuers.ControllerName,
	clusterissuers.ControllerName,
	trigger.ControllerName,
	keymanager.ControllerName,
	requestmanager.ControllerName,
	issuing.ControllerName,
	readiness.ControllerName,
	revisionmanager.ControllerName,
	crapprover.ControllerName,
	crca.CRControllerName,
	crselfsigned.CRControllerName,
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "path to a kubeconfig (empty: in-cluster)")
	leaderElectionNamespace := flag.String("leader-election-namespace", "cert-manager",
		"namespace of the Lease cert-manager-controller (empty: no leader election)")
	clusterResourceNamespace := flag.String("cluster-resource-namespace", "cert-manager",
		"namespace of the Secrets ClusterIssuers refer to")
	workers := flag.Int("concurrent-workers", 5, "workers per controller")
	version := flag.Bool("version", false, "print the cert-manager version and exit")
	klog.InitFlags(nil)
	flag.Parse()
	if *version {
		fmt.Printf("cert-manager-controller %s (controllers: %s)\n", util.AppVersion,
			strings.Join(controllers, ","))
		return
	}

	logf.InitLogs()
	defer logf.FlushLogs()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx = logf.NewContext(ctx, logf.Log, "controller")
	if err := run(ctx, *kubeconfig, *leaderElectionNamespace, *clusterResourceNamespace, *workers); err != nil {
		logf.Log.Error(err, "cert-manager-controller failed")
		logf.FlushLogs()
		os.Exit(1)
	}
}

func run(rootCtx context.Context, kubeconfig, leaseNamespace, clusterResourceNamespace string, workers int) error {
	log := logf.FromContext(rootCtx)
	log.Info("starting cert-manager controller", "version", util.AppVersion, "controllers", controllers)
	factory, err := controllerpkg.NewContextFactory(rootCtx, controllerpkg.ContextOptions{
		Kubeconfig:         kubeconfig,
		KubernetesAPIQPS:   20, // cert-manager's defaults
		KubernetesAPIBurst: 50,
		IssuerOptions: controllerpkg.IssuerOptions{
			ClusterResourceNamespace: clusterResourceNamespace,
		},
		CertificateOptions: controllerpkg.CertificateOptions{
			CopiedAnnotationPrefixes: []string{"*", "-kubectl.kubernetes.io/", "-fluxcd.io/", "-argocd.argoproj.io/"},
		},
	})
	if err != nil {
		return err
	}
	base, err := factory.Build()
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(rootCtx)
	defer cancel()
	if leaseNamespace != "" {
		elected := make(chan struct{})
		lost := make(chan struct{})
		le, err := factory.Build("leader-election")
		if err != nil {
			return err
		}
		host, _ := os.Hostname()
		lock, err := resourcelock.New(resourcelock.LeasesResourceLock, leaseNamespace,
			"cert-manager-controller", le.Client.CoreV1(), le.Client.CoordinationV1(),
			resourcelock.ResourceLockConfig{
				Identity:      fmt.Sprintf("%s-%d-external-cert-manager-controller", host, os.Getpid()),
				EventRecorder: le.Recorder,
			})
		if err != nil {
			return fmt.Errorf("leader election lock: %w", err)
		}
		elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   60 * time.Second, // cert-manager's defaults
			RenewDeadline:   40 * time.Second,
			RetryPeriod:     15 * time.Second,
			ReleaseOnCancel: true,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(context.Context) { close(elected) },
				OnStoppedLeading: func() { close(lost) },
			},
		})
		if err != nil {
			return err
		}
		go elector.Run(ctx)
		log.Info("waiting for the Lease", "namespace", leaseNamespace, "name", "cert-manager-controller")
		select {
		case <-rootCtx.Done():
			return nil
		case <-elected:
		}
		go func() {
			select {
			case <-lost:
				if rootCtx.Err() == nil {
					log.Error(nil, "leader election lost")
					cancel()
				}
			case <-ctx.Done():
			}
		}()
	}

	g, gctx := errgroup.WithContext(ctx)
	known := controllerpkg.Known()
	for _, name := range controllers {
		constructor, ok := known[name]
		if !ok {
			return fmt.Errorf("controller %q is not registered", name)
		}
		c, err := constructor(factory)
		if err != nil {
			return fmt.Errorf("controller %s: %w", name, err)
		}
		log.Info("starting controller", "controller", name)
		g.Go(func() error { return c.Run(workers, gctx) })
	}
	base.SharedInformerFactory.Start(gctx.Done())
	base.KubeSharedInformerFactory.Start(gctx.Done())
	base.HTTP01ResourceMetadataInformersFactory.Start(gctx.Done())
	err = g.Wait()
	base.HTTP01ResourceMetadataInformersFactory.Shutdown()
	base.KubeSharedInformerFactory.Shutdown()
	base.SharedInformerFactory.Shutdown()
	if err != nil {
		return err
	}
	if rootCtx.Err() == nil {
		return fmt.Errorf("leader election lost")
	}
	log.Info("control loops exited")
	return nil
}
