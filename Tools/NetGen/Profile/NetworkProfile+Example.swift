extension NetworkProfile {
    /// A complete profile with every key and its default value, as `netgen --example` prints it. Parsing it gives
    /// the same network as the three-line profile `channel: mychannel`, `orgs: 2`, `peersPerOrg: 2`.
    public static let exampleYAML = """
        # netgen profile: the network (cryptogen's crypto-config.yaml) and its channel (configtxgen's configtx.yaml).
        # Every key but 'channel' is optional; the values below are the defaults. A short profile is enough:
        #   channel: mychannel
        #   orgs: 2
        #   peersPerOrg: 2
        channel: mychannel

        # Shorthand for generated organizations Org<i>MSP / org<i>.example.com (use either 'orgs' or 'peerOrgs'):
        #   orgs: 2
        peersPerOrg: 2          # default number of peers of an organization
        usersPerOrg: 1          # default number of users User1..N (besides Admin) of an organization

        nodeOUs: true           # identities carry the NodeOUs client/peer/admin/orderer (cryptogen EnableNodeOUs)
        intermediateCA: false   # issue identities from ica.<domain>, an intermediate CA under ca.<domain>

        peerOrgs:
          - name: Org1MSP               # group name in the channel config (default: the MSP id)
            mspID: Org1MSP
            domain: org1.example.com
            peers:                      # a number (peers: 2) or a list; peer<i> listens on 127.0.0.1:7051+100*i
              - name: peer0
                endpoint: 127.0.0.1:7051
              - name: peer1
                endpoint: 127.0.0.1:7151
            users: 1
            anchorPeers: [peer0]        # peers of this org written as anchor peers (default: the first peer)
          - name: Org2MSP
            mspID: Org2MSP
            domain: org2.example.com
            peers:                      # the second organization's ports start at 8051
              - name: peer0
                endpoint: 127.0.0.1:8051
              - name: peer1
                endpoint: 127.0.0.1:8151
            users: 1
            anchorPeers: [peer0]

        ordererOrg:
          name: OrdererOrg
          mspID: OrdererMSP
          domain: example.com
          users: 0
          orderers:                     # a number (orderers: 3) or a list; every node is a Raft consenter
            - name: orderer
              endpoint: 127.0.0.1:7050  # the org's orderer endpoint (deliver, broadcast)
              cluster: 127.0.0.1:7050   # the Raft cluster endpoint (default: the endpoint)

        capabilities:
          channel: V3_0                 # or V2_0
          application: V2_5             # or V2_0
          orderer: V2_0

        batch:
          timeout: 2s                   # a Go duration
          maxMessageCount: 500
          absoluteMaxBytes: 10 MB       # bytes, or a number with KB, MB or GB
          preferredMaxBytes: 2 MB

        etcdraft:
          tickInterval: 500ms
          electionTick: 10
          heartbeatTick: 1
          maxInflightBlocks: 5
          snapshotIntervalSize: 16 MB

        policies:                       # implicit-meta rules of /Channel/Application
          endorsement: MAJORITY Endorsement
          lifecycleEndorsement: MAJORITY Endorsement

        """
}
